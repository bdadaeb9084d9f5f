/**
 * The azd hooks (infra/scripts/*.sh) run for real, with stand-ins for the outside world on the
 * PATH: `az`, `curl`, `npm` and `sleep` record how they were called. What matters: the SQL
 * firewall is opened to this machine only for the run and closed again even when the setup fails
 * (and public access, when it was off, is off again), the setup gets the deployment's outputs,
 * the usage API token reaches Key Vault without ever being on a command line, a 403 from Key Vault
 * is never taken for "no secret", and a service-principal deployment is stopped before it starts
 * unless the environment says what it is.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SCRIPTS = path.resolve(import.meta.dirname, '../infra/scripts');

const OUTPUTS = {
  AZURE_RESOURCE_GROUP: 'rg-pipeline-dev',
  AZURE_SQL_SERVER_NAME: 'sql-abc123',
  AZURE_SQL_SERVER_FQDN: 'sql-abc123.database.windows.net',
  AZURE_SQL_DATABASE_NAME: 'sqldb-pipeline',
  AZURE_FUNCTION_IDENTITY_NAME: 'id-func-abc123',
  AZURE_KEY_VAULT_NAME: 'kv-abc123',
  AZURE_KEY_VAULT_USAGE_API_TOKEN_NAME: 'usage-api-token',
};

let bin: string;
let log: string;

/** A stand-in command: logs `name args…` (and, for `--file`, the file's content), then runs `body`. */
function fake(name: string, body = 'exit 0'): void {
  const file = path.join(bin, name);
  writeFileSync(
    file,
    `#!/bin/sh
printf '%s\\n' "${name} $*" >> "${log}"
prev=""
for a in "$@"; do
  if [ "$prev" = "--file" ]; then printf 'file content: %s\\n' "$(cat "$a")" >> "${log}"; fi
  prev="$a"
done
${body}
`,
  );
  chmodSync(file, 0o755);
}

function run(script: string, env: Record<string, string> = {}) {
  const result = spawnSync('sh', [path.join(SCRIPTS, script)], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin, ...OUTPUTS, ...env },
    encoding: 'utf8',
  });
  const calls = readFileSync(log, { encoding: 'utf8', flag: 'a+' }).trim().split('\n').map((c) => c.trimEnd()).filter(Boolean);
  return { status: result.status, stderr: result.stderr, stdout: result.stdout, calls };
}

beforeEach(() => {
  bin = mkdtempSync(path.join(os.tmpdir(), 'hooks-'));
  log = path.join(bin, 'calls.log');
  fake('curl', 'echo 203.0.113.7');
  fake('hostname', 'echo build-agent.local');
  fake('az', AZ_PUBLIC);
  fake('npm');
  fake('sleep');
});

/** `az` answering as for the public layout: SQL public access on. */
const AZ_PUBLIC = 'case "$*" in *"sql server show"*) echo Enabled ;; esac; exit 0';
/** ... and for the virtual network layout: SQL public access off. */
const AZ_PRIVATE = 'case "$*" in *"sql server show"*) echo Disabled ;; esac; exit 0';
/** `az keyvault secret show` when the secret does not exist (the CLI's error text, exit 1). */
const NOT_FOUND = `*"secret show"*) echo "ERROR: (SecretNotFound) A secret with (name/id) usage-api-token was not found in this key vault." >&2; exit 1 ;;`;
/** ... and when the caller's role is not in effect yet. */
const FORBIDDEN = `*"secret show"*) echo "ERROR: (Forbidden) Caller is not authorized to perform action on resource. Code: Forbidden Inner error: ForbiddenByRbac" >&2; exit 1 ;;`;

afterEach(() => rmSync(bin, { recursive: true, force: true }));

describe('setup-database.sh', () => {
  it('opens the firewall to this machine, sets up the database with the outputs, closes the firewall', () => {
    const { status, calls } = run('setup-database.sh');
    expect(status).toBe(0);
    expect(calls).toEqual([
      'curl -fsS --max-time 10 https://api.ipify.org',
      'hostname',
      'az sql server show --resource-group rg-pipeline-dev --name sql-abc123 --query publicNetworkAccess --output tsv',
      'az sql server firewall-rule create --resource-group rg-pipeline-dev --server sql-abc123 --name db-setup-build-agentlocal --start-ip-address 203.0.113.7 --end-ip-address 203.0.113.7 --output none',
      'npm run --silent db:setup -- --server sql-abc123.database.windows.net --database sqldb-pipeline --identity id-func-abc123',
      'az sql server firewall-rule delete --resource-group rg-pipeline-dev --server sql-abc123 --name db-setup-build-agentlocal --output none',
    ]);
  });

  it('with public access off (the virtual network layout), turns it on for the run only, and off again after', () => {
    fake('az', AZ_PRIVATE);
    const { status, calls } = run('setup-database.sh');
    expect(status).toBe(0);
    const azCalls = calls.filter((c) => c.startsWith('az ') || c.startsWith('npm '));
    expect(azCalls).toEqual([
      'az sql server show --resource-group rg-pipeline-dev --name sql-abc123 --query publicNetworkAccess --output tsv',
      'az sql server update --resource-group rg-pipeline-dev --name sql-abc123 --enable-public-network true --output none',
      expect.stringMatching(/^az sql server firewall-rule create /),
      expect.stringMatching(/^npm run --silent db:setup /),
      expect.stringMatching(/^az sql server firewall-rule delete .* --name db-setup-build-agentlocal/),
      'az sql server update --resource-group rg-pipeline-dev --name sql-abc123 --enable-public-network false --output none',
    ]);
  });

  it('turns public access off again even when the setup fails', () => {
    fake('az', AZ_PRIVATE);
    fake('npm', 'exit 1');
    const { status, calls } = run('setup-database.sh');
    expect(status).not.toBe(0);
    expect(calls.slice(-2)).toEqual([expect.stringMatching(/^az sql server firewall-rule delete /), expect.stringMatching(/--enable-public-network false/)]);
  });

  it('from inside the virtual network, leaves the firewall and public access alone', () => {
    const { status, calls } = run('setup-database.sh', { SQL_SETUP_PRIVATE_NETWORK: 'true' });
    expect(status).toBe(0);
    expect(calls).toEqual(['npm run --silent db:setup -- --server sql-abc123.database.windows.net --database sqldb-pipeline --identity id-func-abc123']);
  });

  it('closes the firewall again when the setup fails, and fails', () => {
    fake('npm', 'exit 1');
    const { status, calls } = run('setup-database.sh');
    expect(status).not.toBe(0);
    expect(calls.at(-1)).toMatch(/^az sql server firewall-rule delete .* --name db-setup-build-agentlocal/);
  });

  it('refuses to start without the deployment outputs, touching nothing', () => {
    const { status, stderr, calls } = run('setup-database.sh', { AZURE_SQL_SERVER_NAME: '' });
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/AZURE_SQL_SERVER_NAME.*not set: run from azd, or export the deployment outputs/);
    expect(calls).toEqual([]);
  });

  it('refuses an address that is not an IPv4 address (a proxy answering with a page)', () => {
    fake('curl', 'echo "<html>blocked</html>"');
    const { status, stderr, calls } = run('setup-database.sh');
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/could not tell this machine's public IPv4 address/);
    expect(calls.some((c) => c.startsWith('az '))).toBe(false);
  });

  it('takes the address from SQL_CLIENT_IP when given', () => {
    const { status, calls } = run('setup-database.sh', { SQL_CLIENT_IP: '198.51.100.4' });
    expect(status).toBe(0);
    expect(calls.some((c) => c.startsWith('curl'))).toBe(false);
    expect(calls).toContainEqual(expect.stringMatching(/firewall-rule create .* --start-ip-address 198\.51\.100\.4 --end-ip-address 198\.51\.100\.4/));
  });
});

describe('postprovision.sh', () => {
  it('stores USAGE_API_TOKEN in Key Vault through a file, never on a command line, when the vault lacks it', () => {
    fake('az', `case "$*" in ${NOT_FOUND} *"sql server show"*) echo Enabled ;; esac; exit 0`);
    const token = 'tok_live_4f9a8b';
    const { status, calls, stdout } = run('postprovision.sh', { USAGE_API_TOKEN: token });
    expect(status).toBe(0);
    expect(calls.filter((c) => c.startsWith('npm run'))).toHaveLength(1);
    const set = calls.findIndex((c) => c.startsWith('az keyvault secret set'));
    expect(calls[set]).toMatch(/--vault-name kv-abc123 --name usage-api-token --file \S+ --encoding utf-8/);
    expect(calls[set + 1]).toBe(`file content: ${token}`);
    expect(calls.filter((c) => !c.startsWith('file content:')).join('\n')).not.toContain(token);
    expect(stdout).toContain('stored the usage API token in Key Vault');
  });

  it('never overwrites a token the vault already holds', () => {
    const { status, calls } = run('postprovision.sh', { USAGE_API_TOKEN: 'tok_other' });
    expect(status).toBe(0);
    expect(calls.some((c) => c.startsWith('az keyvault secret set'))).toBe(false);
  });

  it('says how to set the token when there is none', () => {
    fake('az', `case "$*" in ${NOT_FOUND} esac; exit 0`);
    const { status, stderr } = run('postprovision.sh');
    expect(status).toBe(0);
    expect(stderr).toContain('az keyvault secret set --vault-name kv-abc123 --name usage-api-token --file <file holding the token>');
  });

  it('takes a 403 for a role not yet in effect: waits and asks again, and does not write over the secret', () => {
    // Forbidden twice, then the secret is there
    const state = path.join(os.tmpdir(), `kv-${process.pid}-${Date.now()}`);
    fake('az', `case "$*" in *"secret show"*) n=$(cat "${state}" 2>/dev/null || echo 0); echo $((n+1)) > "${state}"; if [ "$n" -lt 2 ]; then echo "ERROR: (Forbidden) Code: Forbidden ForbiddenByRbac" >&2; exit 1; fi ;; esac; exit 0`);
    const { status, calls, stderr } = run('postprovision.sh', { USAGE_API_TOKEN: 'tok_other' });
    rmSync(state, { force: true });
    expect(status).toBe(0);
    expect(calls.filter((c) => c.startsWith('az keyvault secret show'))).toHaveLength(3);
    expect(calls.filter((c) => c.startsWith('sleep'))).toEqual(['sleep 10', 'sleep 20']);
    expect(calls.some((c) => c.startsWith('az keyvault secret set'))).toBe(false);
    expect(stderr).toMatch(/role assignments take up to 10 minutes to take effect/);
  });

  it('fails with what to do when the 403 lasts, never setting the token', () => {
    fake('az', `case "$*" in ${FORBIDDEN} esac; exit 0`);
    const { status, calls, stderr } = run('postprovision.sh', { USAGE_API_TOKEN: 'tok_other' });
    expect(status).not.toBe(0);
    expect(calls.some((c) => c.startsWith('az keyvault secret set'))).toBe(false);
    expect(calls.filter((c) => c.startsWith('sleep')).length).toBeGreaterThan(3);
    expect(stderr).toMatch(/could not tell whether Key Vault kv-abc123 holds the usage API token/);
    expect(stderr).toMatch(/azd hooks run postprovision/);
  });
});

describe('preprovision.sh', () => {
  const asServicePrincipal = 'case "$*" in *"user.type"*) echo servicePrincipal ;; *"user.name"*) echo 11111111-2222-3333-4444-555555555555 ;; esac; exit 0';

  it('does nothing for a person signed in', () => {
    fake('az', 'case "$*" in *"user.type"*) echo user ;; esac; exit 0');
    const { status, stderr } = run('preprovision.sh');
    expect(status).toBe(0);
    expect(stderr).toBe('');
  });

  it('stops a service-principal deployment the environment does not describe, with the commands to run', () => {
    fake('az', asServicePrincipal);
    const { status, stderr } = run('preprovision.sh', { AZURE_PRINCIPAL_TYPE: 'User' });
    expect(status).not.toBe(0);
    expect(stderr).toContain('azd env set AZURE_PRINCIPAL_TYPE ServicePrincipal');
    expect(stderr).toContain('azd env set AZURE_PRINCIPAL_CLIENT_ID 11111111-2222-3333-4444-555555555555');
  });

  it("clears AZURE_SQL_SERVER_NAME when that server is gone (after azd down), so it is created again with its admin", () => {
    fake('az', 'case "$*" in *"sql server show"*) echo "ERROR: (ResourceNotFound) The Resource Microsoft.Sql/servers/sql-abc123 was not found." >&2; exit 3 ;; *"user.type"*) echo user ;; esac; exit 0');
    fake('azd');
    const { status, calls, stdout } = run('preprovision.sh');
    expect(status).toBe(0);
    expect(calls).toContain("azd env set AZURE_SQL_SERVER_NAME"); // with an empty value
    expect(stdout).toMatch(/no longer exists; it will be created again/);
  });

  it('stops on any other error looking the server up, rather than guess', () => {
    fake('az', 'case "$*" in *"sql server show"*) echo "ERROR: (AuthorizationFailed) no" >&2; exit 1 ;; esac; exit 0');
    fake('azd');
    const { status, calls, stderr } = run('preprovision.sh');
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/AuthorizationFailed/);
    expect(calls.some((c) => c.startsWith('azd '))).toBe(false);
  });

  it('lets it through once the environment says so', () => {
    fake('az', asServicePrincipal);
    const { status } = run('preprovision.sh', { AZURE_PRINCIPAL_TYPE: 'ServicePrincipal', AZURE_PRINCIPAL_CLIENT_ID: '11111111-2222-3333-4444-555555555555' });
    expect(status).toBe(0);
  });
});

/**
 * The contract between the code and the infrastructure templates, as checks over the template
 * texts. `checkInfraContract` returns every broken rule as a sentence naming the file; an empty
 * list means the templates give the code everything it reads and nothing it must not have.
 *
 * The checks take the texts as a map (path → text) so that tests can also hand them a template
 * with one line removed and see the check fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EVENTS, METRICS } from '../../functions/core/telemetry.js';
import { LOCAL_ONLY_SETTINGS, settingsSchema } from '../../functions/core/settings.js';
import { CONTAINERS, DATA_STORAGE_CONNECTION, QUEUES } from '../../functions/storage/blobStore.js';
import { kqlSyntaxErrors } from './kql.js';
import { entryAt, objectEntries, outputs, params, resources, stringArray, stringLiteral, stripComments, variable, type ResourceDecl } from './bicep.js';

export type Templates = Map<string, string>;

const ROOT = path.resolve(import.meta.dirname, '../..');

/** infra/** (Bicep, parameters, workbook), azure.yaml, host.json and .funcignore, by path from the repo root. */
export function readTemplates(root = ROOT): Templates {
  const files: Templates = new Map();
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else files.set(rel, readFileSync(path.join(root, rel), 'utf8'));
    }
  };
  walk('infra');
  for (const f of ['azure.yaml', 'host.json', '.funcignore']) files.set(f, readFileSync(path.join(root, f), 'utf8'));
  return files;
}

/**
 * Built-in role definition ids, copied from Microsoft's list
 * (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles), keyed the way the
 * templates' `roles` maps name them. A role missing here is not allowed in the templates.
 */
export const BUILT_IN_ROLES = {
  storageBlobDataOwner: { name: 'Storage Blob Data Owner', id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' },
  storageBlobDataContributor: { name: 'Storage Blob Data Contributor', id: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' },
  storageQueueDataContributor: { name: 'Storage Queue Data Contributor', id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' },
  storageQueueDataMessageSender: { name: 'Storage Queue Data Message Sender', id: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a' },
  storageTableDataContributor: { name: 'Storage Table Data Contributor', id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' },
  monitoringMetricsPublisher: { name: 'Monitoring Metrics Publisher', id: '3913510d-42f4-4e42-8a64-420c390055eb' },
  keyVaultSecretsUser: { name: 'Key Vault Secrets User', id: '4633458b-17de-408a-b874-0445c86b69e6' },
  keyVaultSecretsOfficer: { name: 'Key Vault Secrets Officer', id: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' },
} as const;
type RoleKey = keyof typeof BUILT_IN_ROLES;

/** Who needs which role on what (the scope is the template symbol of the resource it is assigned on). */
export const REQUIRED_ROLES: { principal: Principal; role: RoleKey; scope: string; why: string }[] = [
  { principal: 'function app identity', role: 'storageBlobDataOwner', scope: 'storage', why: 'host storage (locks, keys, deployment package) and the data lake' },
  { principal: 'function app identity', role: 'storageQueueDataContributor', scope: 'storage', why: 'queue triggers, poison queues, transform requests' },
  { principal: 'function app identity', role: 'storageTableDataContributor', scope: 'storage', why: "the host's diagnostic events" },
  { principal: 'function app identity', role: 'monitoringMetricsPublisher', scope: 'appInsights', why: 'Entra-authenticated telemetry' },
  { principal: 'function app identity', role: 'keyVaultSecretsUser', scope: 'vault', why: 'the USAGE_API_TOKEN Key Vault reference' },
  { principal: 'Event Grid system topic', role: 'storageQueueDataMessageSender', scope: 'storage::queueService::landingEvents', why: 'delivering BlobCreated to landing-events' },
  { principal: 'Event Grid system topic', role: 'storageBlobDataContributor', scope: 'storage::blobService::deadLetter', why: 'dead-lettering undeliverable events' },
  { principal: 'deployer', role: 'keyVaultSecretsOfficer', scope: 'vault', why: 'setting the usage API token' },
];

type Principal = 'function app identity' | 'Event Grid system topic' | 'deployer';
const PRINCIPALS: Record<string, Principal> = {
  functionIdentityPrincipalId: 'function app identity',
  'systemTopic.identity.principalId': 'Event Grid system topic',
  deployerPrincipalId: 'deployer',
};

/**
 * Resource types and API versions checked against Microsoft's template reference
 * (https://learn.microsoft.com/azure/templates/<namespace>/<type>) when they were written here.
 * A type or version not in this table has not been checked: add it only after checking.
 */
export const CHECKED_API_VERSIONS: Record<string, string> = {
  'Microsoft.Resources/resourceGroups': '2024-03-01',
  'Microsoft.ManagedIdentity/userAssignedIdentities': '2023-01-31',
  'Microsoft.OperationalInsights/workspaces': '2023-09-01',
  'Microsoft.Insights/components': '2020-02-02',
  'Microsoft.Insights/actionGroups': '2023-01-01',
  'Microsoft.Insights/scheduledQueryRules': '2023-12-01',
  'Microsoft.Insights/metricAlerts': '2018-03-01',
  'Microsoft.Insights/workbooks': '2023-06-01',
  'Microsoft.Storage/storageAccounts': '2025-06-01',
  'Microsoft.Storage/storageAccounts/blobServices': '2025-06-01',
  'Microsoft.Storage/storageAccounts/blobServices/containers': '2025-06-01',
  'Microsoft.Storage/storageAccounts/queueServices': '2025-06-01',
  'Microsoft.Storage/storageAccounts/queueServices/queues': '2025-06-01',
  'Microsoft.Storage/storageAccounts/managementPolicies': '2025-06-01',
  'Microsoft.KeyVault/vaults': '2024-11-01',
  'Microsoft.Sql/servers': '2025-01-01',
  'Microsoft.Sql/servers/administrators': '2025-01-01',
  'Microsoft.Sql/servers/azureADOnlyAuthentications': '2025-01-01',
  'Microsoft.Sql/servers/firewallRules': '2025-01-01',
  'Microsoft.Sql/servers/databases': '2025-01-01',
  'Microsoft.Web/serverfarms': '2024-11-01',
  'Microsoft.Web/sites': '2024-11-01',
  'Microsoft.EventGrid/systemTopics': '2025-02-15',
  'Microsoft.EventGrid/systemTopics/eventSubscriptions': '2025-02-15',
  'Microsoft.Authorization/roleAssignments': '2022-04-01',
};

/**
 * Settings only the Functions host reads: its own identity-based storage (AzureWebJobsStorage),
 * and the parts of the queue triggers' connection (DATA_STORAGE_CONNECTION) the code has no use for.
 */
export const HOST_STORAGE_SETTINGS = {
  AzureWebJobsStorage__accountName: 'the account (the host derives any service URI not given)',
  AzureWebJobsStorage__blobServiceUri: 'blobs: host locks and keys',
  AzureWebJobsStorage__queueServiceUri: 'queues (blob triggers and Durable only)',
  AzureWebJobsStorage__tableServiceUri: "tables: the host's diagnostic events",
  AzureWebJobsStorage__credential: 'managedidentity',
  AzureWebJobsStorage__clientId: 'which user-assigned identity',
  [`${DATA_STORAGE_CONNECTION}__credential`]: 'managedidentity, for the queue triggers',
} as const;

/** Settings Flex Consumption rejects or ignores (it sets the runtime and the package itself). */
const FLEX_REJECTED_SETTINGS = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
  'WEBSITE_TIME_ZONE',
];

/** Site properties Flex Consumption does not accept (functionAppConfig replaces them). */
const FLEX_REJECTED_SITE_CONFIG = ['linuxFxVersion', 'alwaysOn', 'ftpsState', 'use32BitWorkerProcess', 'functionAppScaleLimit', 'netFrameworkVersion'];

// ---- helpers ------------------------------------------------------------------------------------

class Bicep {
  readonly code: string;
  constructor(
    readonly file: string,
    text: string,
  ) {
    this.code = stripComments(text);
  }
  resources(): ResourceDecl[] {
    return resources(this.code);
  }
  ofType(type: string): ResourceDecl[] {
    return this.resources().filter((r) => r.type === type && !r.existing);
  }
  variable(name: string): string | undefined {
    return variable(this.code, name);
  }
}

function bicepFiles(t: Templates): Bicep[] {
  return [...t.entries()].filter(([f]) => f.endsWith('.bicep')).map(([f, text]) => new Bicep(f, text));
}

function bicep(t: Templates, file: string): Bicep {
  const text = t.get(file);
  if (text === undefined) throw new Error(`${file} is missing`);
  return new Bicep(file, text);
}

/** A resource body's object, whether a plain `{…}` or a loop `[for … : {…}]`. */
function bodyObject(r: ResourceDecl): string {
  const body = r.body.trim();
  if (body.startsWith('{')) return body;
  const m = /^\[\s*for\s[\s\S]*?:\s*(\{[\s\S]*\})\s*\]$/.exec(body);
  if (!m) throw new Error(`cannot read the body of resource ${r.symbol}`);
  return m[1]!;
}

const isoDuration = (text: string) => {
  const m = /^(\d+):(\d{2}):(\d{2})$/.exec(text);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
};

// ---- the checks ---------------------------------------------------------------------------------

const FUNCTION_APP = 'infra/modules/functionApp.bicep';
const STORAGE = 'infra/modules/storage.bicep';

/** Every setting the code reads is set on the function app; no local-only, unknown or Flex-rejected one is; literal values parse. */
export function checkAppSettings(t: Templates): string[] {
  const problems: string[] = [];
  const fa = bicep(t, FUNCTION_APP);
  const settingsExpr = fa.variable('appSettings');
  if (!settingsExpr) return [`${FUNCTION_APP}: no \`var appSettings = {…}\``];
  const settings = objectEntries(settingsExpr);

  const config = fa.resources().find((r) => r.type === 'config' || r.type === 'Microsoft.Web/sites/config');
  if (!config || stringLiteral(entryAt(config.body, 'name') ?? '') !== 'appsettings' || entryAt(config.body, 'properties') !== 'appSettings') {
    problems.push(`${FUNCTION_APP}: appSettings is not what the site's 'appsettings' config resource sets`);
  }

  const codeSettings = Object.keys(settingsSchema.shape) as (keyof typeof settingsSchema.shape)[];
  const localOnly = new Set<string>(Object.keys(LOCAL_ONLY_SETTINGS));
  for (const name of codeSettings) {
    if (localOnly.has(name)) {
      if (settings.has(name)) problems.push(`${FUNCTION_APP}: app setting ${name} is local-only (${LOCAL_ONLY_SETTINGS[name as keyof typeof LOCAL_ONLY_SETTINGS]}) and must not be set in Azure`);
    } else if (!settings.has(name)) {
      problems.push(`${FUNCTION_APP}: app setting ${name}, which the code reads (functions/core/settings.ts), is not set on the function app`);
    }
  }
  for (const name of Object.keys(HOST_STORAGE_SETTINGS)) {
    if (!settings.has(name) && !(name in settingsSchema.shape)) problems.push(`${FUNCTION_APP}: app setting ${name}, which the Functions host needs for identity-based storage, is not set`);
  }
  for (const name of settings.keys()) {
    if (FLEX_REJECTED_SETTINGS.includes(name)) problems.push(`${FUNCTION_APP}: app setting ${name} is not valid on Flex Consumption`);
    else if (!(name in settingsSchema.shape) && !(name in HOST_STORAGE_SETTINGS)) problems.push(`${FUNCTION_APP}: app setting ${name} is read by neither the code nor the host (a typo?)`);
  }

  // literal values must be what the code accepts
  for (const [name, expr] of settings) {
    const value = stringLiteral(expr);
    const schema = settingsSchema.shape[name as keyof typeof settingsSchema.shape];
    if (value === undefined || !schema) continue;
    const parsed = schema.safeParse(value);
    if (!parsed.success) problems.push(`${FUNCTION_APP}: app setting ${name} = '${value}' is rejected by the code: ${parsed.error.issues[0]?.message}`);
  }
  const expect = (name: string, want: string) => {
    const got = settings.get(name);
    if (got !== undefined && stringLiteral(got) !== want) problems.push(`${FUNCTION_APP}: app setting ${name} must be '${want}' in Azure (is ${got})`);
  };
  expect('WAREHOUSE_ENGINE', 'mssql');
  expect('SQL_AUTH', 'default');
  expect('SQL_ENCRYPT', 'true');
  expect('AzureWebJobsStorage__credential', 'managedidentity');
  expect(`${DATA_STORAGE_CONNECTION}__credential`, 'managedidentity');
  const token = settings.get('USAGE_API_TOKEN');
  if (token !== undefined && !/^'@Microsoft\.KeyVault\(/.test(token)) problems.push(`${FUNCTION_APP}: USAGE_API_TOKEN must be a Key Vault reference, not a value`);
  const auth = settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
  if (auth !== undefined && !/Authorization=AAD/.test(auth)) problems.push(`${FUNCTION_APP}: APPLICATIONINSIGHTS_AUTHENTICATION_STRING must use Authorization=AAD (local auth is off)`);

  // a transform must not outlive its lease
  const host = JSON.parse(t.get('host.json') ?? '{}') as { functionTimeout?: string };
  const timeout = host.functionTimeout ? isoDuration(host.functionTimeout) : undefined;
  const lease = Number(stringLiteral(settings.get('TRANSFORM_LEASE_SECONDS') ?? '') ?? NaN);
  if (timeout === undefined) problems.push('host.json: functionTimeout must be set (hh:mm:ss); unbounded would let a transform outlive its lease');
  else if (!(lease >= timeout)) problems.push(`${FUNCTION_APP}: TRANSFORM_LEASE_SECONDS (${lease}) is shorter than host.json's functionTimeout (${timeout} s)`);

  // Flex Consumption: runtime in functionAppConfig, not the classic properties
  const site = fa.ofType('Microsoft.Web/sites')[0];
  if (!site) problems.push(`${FUNCTION_APP}: no Microsoft.Web/sites resource`);
  else {
    for (const prop of FLEX_REJECTED_SITE_CONFIG) if (new RegExp(`\\b${prop}\\s*:`).test(site.body)) problems.push(`${FUNCTION_APP}: ${prop} is not valid on Flex Consumption`);
    if (stringLiteral(entryAt(site.body, 'properties.functionAppConfig.runtime.name') ?? '') !== 'node') problems.push(`${FUNCTION_APP}: functionAppConfig.runtime.name must be 'node'`);
    if (entryAt(site.body, 'properties.httpsOnly') !== 'true') problems.push(`${FUNCTION_APP}: httpsOnly must be true`);
    if (entryAt(site.body, 'properties.keyVaultReferenceIdentity') !== 'identity.id') problems.push(`${FUNCTION_APP}: keyVaultReferenceIdentity must be the user-assigned identity (identity.id)`);
  }
  return problems;
}

/** Every container and queue the code uses exists, plus the deployment, dead-letter and poison ones; the storage account is locked down. */
export function checkStorage(t: Templates): string[] {
  const problems: string[] = [];
  const st = bicep(t, STORAGE);
  const arrayVar = (name: string) => {
    const expr = st.variable(name);
    if (!expr) {
      problems.push(`${STORAGE}: no \`var ${name}\``);
      return [];
    }
    return stringArray(expr);
  };
  const stringVar = (name: string) => stringLiteral(st.variable(name) ?? '');
  const dataContainers = arrayVar('dataContainers');
  const queues = arrayVar('queues');
  const deployment = stringVar('deploymentContainer');
  const deadLetter = stringVar('deadLetterContainer');

  for (const name of Object.values(CONTAINERS)) {
    if (!dataContainers.includes(name)) problems.push(`${STORAGE}: container '${name}', which the code uses (functions/storage/blobStore.ts), is not created`);
  }
  for (const name of Object.values(QUEUES)) {
    if (!queues.includes(name)) problems.push(`${STORAGE}: queue '${name}', which the code uses (functions/storage/blobStore.ts), is not created`);
  }
  if (!deployment) problems.push(`${STORAGE}: no deployment package container (var deploymentContainer)`);
  if (!deadLetter) problems.push(`${STORAGE}: no Event Grid dead-letter container (var deadLetterContainer)`);
  if (!/'\$\{queue\}-poison'/.test(st.variable('poisonQueues') ?? '')) problems.push(`${STORAGE}: the <queue>-poison queues are not created (var poisonQueues)`);

  const loopOver = (type: string, needles: string[]) => {
    const r = st.ofType(type)[0];
    const head = r?.body.slice(0, r.body.indexOf(':')) ?? '';
    for (const n of needles) if (!new RegExp(`\\b${n}\\b`).test(head)) problems.push(`${STORAGE}: the ${type.split('/').pop()} resource does not create ${n}`);
  };
  loopOver('Microsoft.Storage/storageAccounts/blobServices/containers', ['dataContainers', 'deploymentContainer', 'deadLetterContainer']);
  loopOver('Microsoft.Storage/storageAccounts/queueServices/queues', ['queues', 'poisonQueues']);

  // outputs the other modules wire by name must be the names the code uses
  const outs = new Map(outputs(st.code).map((o) => [o.name, o.value ?? '']));
  const resolve = (expr: string) => {
    const m = /^(\w+)\[(\d+)\]$/.exec(expr);
    if (m) return stringArray(st.variable(m[1]!) ?? '[]')[Number(m[2])];
    return stringLiteral(st.variable(expr) ?? expr);
  };
  if (resolve(outs.get('landingContainerName') ?? '') !== CONTAINERS.landing) problems.push(`${STORAGE}: output landingContainerName is not '${CONTAINERS.landing}'`);
  if (resolve(outs.get('landingEventsQueueName') ?? '') !== QUEUES.landingEvents) problems.push(`${STORAGE}: output landingEventsQueueName is not '${QUEUES.landingEvents}'`);

  const account = st.ofType('Microsoft.Storage/storageAccounts')[0];
  const prop = (p: string) => (account ? entryAt(account.body, `properties.${p}`) : undefined);
  if (prop('allowSharedKeyAccess') !== 'false') problems.push(`${STORAGE}: allowSharedKeyAccess must be false (no account keys)`);
  if (prop('allowBlobPublicAccess') !== 'false') problems.push(`${STORAGE}: allowBlobPublicAccess must be false`);
  if (prop('minimumTlsVersion') !== "'TLS1_2'") problems.push(`${STORAGE}: minimumTlsVersion must be 'TLS1_2'`);
  const blobService = st.ofType('Microsoft.Storage/storageAccounts/blobServices')[0];
  if (!blobService || entryAt(blobService.body, 'properties.deleteRetentionPolicy.enabled') !== 'true') problems.push(`${STORAGE}: blob soft delete (deleteRetentionPolicy) must be enabled`);
  const lifecycle = st.ofType('Microsoft.Storage/storageAccounts/managementPolicies')[0];
  if (!lifecycle || !/prefixMatch:\s*\['bronze\/'\]/.test(lifecycle.body) || !/tierToCool/.test(lifecycle.body)) problems.push(`${STORAGE}: no lifecycle rule moving bronze/ to the cool tier`);
  return problems;
}

/** Every role is a documented built-in one, every needed assignment exists, and nothing broader is granted. */
export function checkRoles(t: Templates): string[] {
  const problems: string[] = [];
  const byId = new Map<string, RoleKey>(Object.entries(BUILT_IN_ROLES).map(([k, v]) => [v.id, k as RoleKey]));
  const found: { principal: string; role: string; scope: string }[] = [];
  for (const file of bicepFiles(t)) {
    const rolesExpr = file.variable('roles');
    const roleIds = rolesExpr ? objectEntries(rolesExpr) : new Map<string, string>();
    for (const [key, expr] of roleIds) {
      const id = stringLiteral(expr) ?? '';
      const documented = BUILT_IN_ROLES[key as RoleKey];
      if (!documented) problems.push(`${file.file}: role ${key} (${id}) is not one of the allowed built-in roles`);
      else if (documented.id !== id) problems.push(`${file.file}: role ${key} is ${id}, but the documented id of ${documented.name} is ${documented.id}`);
    }
    for (const r of file.ofType('Microsoft.Authorization/roleAssignments')) {
      const definition = entryAt(r.body, 'properties.roleDefinitionId') ?? '';
      const ref = /^subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions',\s*roles\.(\w+)\)$/.exec(definition);
      if (!ref) {
        problems.push(`${file.file}:${r.line}: role assignment ${r.symbol} must name its role as subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.<name>)`);
        continue;
      }
      const id = stringLiteral(roleIds.get(ref[1]!) ?? '') ?? '';
      const role: string = byId.get(id) ?? `unknown role ${ref[1]} (${id})`;
      const principalExpr = entryAt(r.body, 'properties.principalId') ?? '';
      found.push({ principal: PRINCIPALS[principalExpr] ?? `unknown principal ${principalExpr}`, role, scope: entryAt(r.body, 'scope') ?? 'the resource group' });
    }
  }
  for (const need of REQUIRED_ROLES) {
    if (!found.some((f) => f.principal === need.principal && f.role === need.role && f.scope === need.scope)) {
      problems.push(`no role assignment gives the ${need.principal} ${BUILT_IN_ROLES[need.role].name} on ${need.scope} (${need.why})`);
    }
  }
  for (const f of found) {
    if (!REQUIRED_ROLES.some((need) => need.principal === f.principal && need.role === f.role && need.scope === f.scope)) {
      const name = f.role in BUILT_IN_ROLES ? BUILT_IN_ROLES[f.role as RoleKey].name : f.role;
      problems.push(`role assignment ${name} for the ${f.principal} on ${f.scope} is not in the least-privilege list (tests/support/infraContract.ts REQUIRED_ROLES)`);
    }
  }
  // the modules must be wired to the identities they are about
  const main = t.get('infra/main.bicep') ?? '';
  if (!/functionIdentityPrincipalId:\s*identity\.outputs\.principalId/.test(main)) problems.push('infra/main.bicep: the role assignments are not given the function app identity');
  return problems;
}

const SECRET_PATTERNS: [RegExp, string][] = [
  [/\blist(Keys|Secrets|ConnectionStrings|AccountSas|ServiceSas)\s*\(/i, 'reads a key or secret with a list*() function'],
  [/\.list\w*\(\)/, 'reads a key or secret with a list*() function'],
  [/AccountKey=|SharedAccessKey|SharedAccessSignature|[?&]sig=/i, 'holds a storage or service key'],
  [/administratorLoginPassword|\bpassword\s*:/i, 'sets a password'],
  [/\badministratorLogin\s*:/, 'sets a SQL login (Azure SQL is Entra-only)'],
  [/InstrumentationKey=/i, 'holds an instrumentation key'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'holds a private key'],
];

/** No secret, key or password in templates, parameter files or outputs; nothing secret is stored by a template. */
export function checkNoSecrets(t: Templates): string[] {
  const problems: string[] = [];
  for (const [file, text] of t) {
    if (!/^infra\/|^azure\.yaml$/.test(file)) continue;
    const code = file.endsWith('.bicep') || file.endsWith('.bicepparam') ? stripComments(text) : text;
    for (const [re, what] of SECRET_PATTERNS) if (re.test(code)) problems.push(`${file}: ${what}`);
  }
  for (const file of bicepFiles(t)) {
    for (const o of outputs(file.code)) {
      if (o.decorators.some((d) => d.startsWith('@secure'))) problems.push(`${file.file}: output ${o.name} is secure: outputs carry names and addresses only`);
      if (/ConnectionString|InstrumentationKey|\.list\w*\(|\blist\w*\(|secretUri|password/i.test(o.value ?? '')) problems.push(`${file.file}: output ${o.name} exposes a secret or a connection string`);
    }
    for (const p of params(file.code)) {
      if (/password|secret|token|key$/i.test(p.name) && p.value !== undefined && stringLiteral(p.value)) problems.push(`${file.file}: parameter ${p.name} has a literal default`);
    }
    if (file.ofType('Microsoft.KeyVault/vaults/secrets').length) problems.push(`${file.file}: a template stores a Key Vault secret: secrets are set out of band, never through a deployment`);
  }
  // parameter files: environment references only for anything that looks secret
  const azdParams = JSON.parse(t.get('infra/main.parameters.json') ?? '{"parameters":{}}') as { parameters: Record<string, { value?: unknown }> };
  for (const [name, p] of Object.entries(azdParams.parameters)) {
    if (typeof p.value === 'string' && !/^\$\{[A-Z0-9_]+(=[^}]*)?\}$/.test(p.value)) problems.push(`infra/main.parameters.json: parameter ${name} holds a literal value, not an azd environment reference`);
  }
  for (const [file, text] of t) {
    if (!file.endsWith('.bicepparam')) continue;
    for (const m of stripComments(text).matchAll(/^\s*param\s+(\w+)\s*=\s*(.+)$/gm)) {
      if (!/^readEnvironmentVariable\(/.test(m[2]!.trim()) && /password|secret|token|key/i.test(m[1]!)) problems.push(`${file}: parameter ${m[1]} holds a literal value`);
    }
  }
  return problems;
}

/** Azure SQL is Entra-only with no open firewall range; App Insights takes Entra auth only; Key Vault uses RBAC. */
export function checkIdentityOnlyAccess(t: Templates): string[] {
  const problems: string[] = [];
  const sql = bicep(t, 'infra/modules/sql.bicep');
  const admin = sql.variable('entraAdmin');
  const server = sql.ofType('Microsoft.Sql/servers')[0];
  if (!server || entryAt(server.body, 'properties.administrators') !== 'entraAdmin' || entryAt(admin ?? '{}', 'azureADOnlyAuthentication') !== 'true') {
    problems.push('infra/modules/sql.bicep: the server must be created with an Entra admin and azureADOnlyAuthentication: true');
  }
  const only = sql.ofType('Microsoft.Sql/servers/azureADOnlyAuthentications')[0];
  if (!only || entryAt(only.body, 'properties.azureADOnlyAuthentication') !== 'true') problems.push('infra/modules/sql.bicep: SQL password authentication must be off (servers/azureADOnlyAuthentications)');
  for (const file of bicepFiles(t)) {
    for (const rule of file.ofType('Microsoft.Sql/servers/firewallRules')) {
      const start = entryAt(rule.body, 'properties.startIpAddress');
      const end = entryAt(rule.body, 'properties.endIpAddress');
      if (start !== "'0.0.0.0'" || end !== "'0.0.0.0'") problems.push(`${file.file}:${rule.line}: firewall rule ${rule.symbol} opens ${start}–${end}; only the Azure-services rule (0.0.0.0) belongs in a template`);
    }
    for (const ai of file.ofType('Microsoft.Insights/components')) {
      if (entryAt(ai.body, 'properties.DisableLocalAuth') !== 'true') problems.push(`${file.file}: Application Insights must have DisableLocalAuth: true`);
    }
    for (const kv of file.ofType('Microsoft.KeyVault/vaults')) {
      if (entryAt(kv.body, 'properties.enableRbacAuthorization') !== 'true') problems.push(`${file.file}: Key Vault must use RBAC authorisation`);
    }
  }
  return problems;
}

/** Every resource type and API version is one checked against the docs. */
export function checkApiVersions(t: Templates): string[] {
  const problems: string[] = [];
  for (const file of bicepFiles(t)) {
    for (const r of file.resources()) {
      if (!r.apiVersion) continue; // a nested child takes its parent's version
      const checked = CHECKED_API_VERSIONS[r.type];
      if (!checked) problems.push(`${file.file}:${r.line}: resource type ${r.type} has not been checked against the template reference`);
      else if (checked !== r.apiVersion) problems.push(`${file.file}:${r.line}: ${r.type}@${r.apiVersion} is not the checked version (${checked})`);
    }
  }
  return problems;
}

/** The alerts and the workbook query telemetry names the code emits, and the alerts the runbook describes exist. */
export function checkMonitoring(t: Templates): string[] {
  const problems: string[] = [];
  const known = new Set<string>([...Object.values(METRICS), ...Object.values(EVENTS)]);
  for (const [file, text] of t) {
    if (!file.startsWith('infra/')) continue;
    for (const m of text.matchAll(/"(pipeline\.[a-z_.]+)"/g)) {
      if (!known.has(m[1]!)) problems.push(`${file}: "${m[1]}" is not a metric or event the code emits (functions/core/telemetry.ts)`);
    }
  }
  const alerts = bicep(t, 'infra/modules/alerts.bicep');
  const queries = [...(alerts.variable('logAlerts') ?? '').matchAll(/query:\s*'''([\s\S]*?)'''/g)].map((m) => m[1]!);
  const needs: [string, (q: string) => boolean][] = [
    ['function failures', (q) => /^\s*requests\b/.test(q) && /success\s*==\s*false/.test(q)],
    ['a failed pipeline run', (q) => q.includes(`"${EVENTS.runFinished}"`) && /status\)\s*==\s*"failed"/.test(q)],
    ['a source past its freshness limit', (q) => (q.includes(`"${METRICS.freshnessLag}"`) || q.includes(`"${EVENTS.sourceStale}"`)) && /"error"/.test(q)],
    ['poison messages', (q) => q.includes(`"${METRICS.poisonMessages}"`)],
  ];
  for (const [what, matches] of needs) if (!queries.some(matches)) problems.push(`infra/modules/alerts.bicep: no alert rule for ${what}`);
  // Azure Monitor rejects a log alert whose query does not parse, and the deployment fails with it
  for (const q of queries) for (const e of kqlSyntaxErrors(q)) problems.push(`infra/modules/alerts.bicep: alert query does not parse: ${e}`);
  if (!alerts.ofType('Microsoft.Insights/actionGroups').length) problems.push('infra/modules/alerts.bicep: no action group');
  if (!/actionGroups:\s*\[actionGroup\.id\]/.test(alerts.code)) problems.push('infra/modules/alerts.bicep: the log alerts do not notify the action group');
  const workbook = t.get('infra/monitoring/pipeline.workbook.json');
  if (!workbook) problems.push('infra/monitoring/pipeline.workbook.json is missing');
  else {
    let items: { name?: string; content?: { query?: string } }[] = [];
    try {
      items = (JSON.parse(workbook) as { items: typeof items }).items;
    } catch (err) {
      problems.push(`infra/monitoring/pipeline.workbook.json: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    for (const item of items) {
      for (const e of item.content?.query ? kqlSyntaxErrors(item.content.query) : []) problems.push(`infra/monitoring/pipeline.workbook.json: query ${item.name} does not parse: ${e}`);
    }
    for (const name of [METRICS.rowsLanded, METRICS.rowsQuarantined, METRICS.stageDuration, METRICS.freshnessLag, EVENTS.runFinished]) {
      if (!workbook.includes(`\\"${name}\\"`) && !workbook.includes(`"${name}"`)) problems.push(`infra/monitoring/pipeline.workbook.json: shows nothing of ${name}`);
    }
  }
  return problems;
}

/** Event Grid delivers BlobCreated under landing to the queue the upload function listens on, with retries and dead-lettering. */
export function checkEventGrid(t: Templates): string[] {
  const problems: string[] = [];
  const eg = bicep(t, 'infra/modules/eventGrid.bicep');
  const sub = eg.ofType('Microsoft.EventGrid/systemTopics/eventSubscriptions')[0];
  if (!sub) return ['infra/modules/eventGrid.bicep: no event subscription'];
  const at = (p: string) => entryAt(sub.body, `properties.${p}`);
  if (stringLiteral(at('deliveryWithResourceIdentity.destination.endpointType') ?? '') !== 'StorageQueue') problems.push('infra/modules/eventGrid.bicep: events must be delivered to a storage queue with the topic\'s identity');
  if (at('deliveryWithResourceIdentity.destination.properties.queueName') !== 'landingEventsQueueName') problems.push('infra/modules/eventGrid.bicep: the subscription does not deliver to landingEventsQueueName');
  if (!/'Microsoft\.Storage\.BlobCreated'/.test(at('filter.includedEventTypes') ?? '')) problems.push('infra/modules/eventGrid.bicep: the subscription must filter on Microsoft.Storage.BlobCreated');
  if (at('filter.subjectBeginsWith') !== "'/blobServices/default/containers/${landingContainerName}/blobs/'") problems.push('infra/modules/eventGrid.bicep: the subscription must be limited to the landing container');
  if (!at('retryPolicy.maxDeliveryAttempts')) problems.push('infra/modules/eventGrid.bicep: no retry policy');
  if (at('deadLetterWithResourceIdentity.deadLetterDestination.properties.blobContainerName') !== 'deadLetterContainerName') problems.push('infra/modules/eventGrid.bicep: no dead-letter container');
  const main = t.get('infra/main.bicep') ?? '';
  for (const wire of ['landingEventsQueueName: storage.outputs.landingEventsQueueName', 'landingContainerName: storage.outputs.landingContainerName', 'deadLetterContainerName: storage.outputs.deadLetterContainerName']) {
    if (!main.includes(wire)) problems.push(`infra/main.bicep: the Event Grid module is not given ${wire.split(':')[0]} from the storage module`);
  }
  const host = JSON.parse(t.get('host.json') ?? '{}') as { extensions?: { queues?: { messageEncoding?: string } } };
  if ((host.extensions?.queues?.messageEncoding ?? 'base64') !== 'base64') problems.push('host.json: Event Grid writes base64 messages to storage queues: messageEncoding must be base64');
  return problems;
}

/** Parameters line up across main.bicep, the azd and the az parameter files; azd finds the app; the package builds remotely. */
export function checkDeploymentWiring(t: Templates): string[] {
  const problems: string[] = [];
  const main = bicep(t, 'infra/main.bicep');
  const declared = params(main.code);
  const names = new Set(declared.map((p) => p.name));
  const azd = Object.keys((JSON.parse(t.get('infra/main.parameters.json') ?? '{"parameters":{}}') as { parameters: object }).parameters);
  const az = [...stripComments(t.get('infra/main.az.bicepparam') ?? '').matchAll(/^\s*param\s+(\w+)\s*=/gm)].map((m) => m[1]!);
  for (const [file, given] of [['infra/main.parameters.json', azd], ['infra/main.az.bicepparam', az]] as const) {
    for (const p of given) if (!names.has(p)) problems.push(`${file}: parameter ${p} is not declared in main.bicep`);
    for (const p of declared) if (p.value === undefined && !given.includes(p.name)) problems.push(`${file}: required parameter ${p.name} is not given`);
  }
  // every top-level resource carries the tags (child resources and role assignments cannot)
  for (const file of bicepFiles(t)) {
    for (const r of file.resources()) {
      if (r.existing || !r.apiVersion || r.type.split('/').length !== 2 || r.type === 'Microsoft.Authorization/roleAssignments') continue;
      if (!/^\s*tags\s*:/m.test(bodyObject(r))) problems.push(`${file.file}:${r.line}: resource ${r.symbol} has no tags`);
    }
  }
  if (t.has('infra/main.bicepparam')) problems.push('infra/main.bicepparam: azd would use it instead of main.parameters.json; keep the az parameters in main.az.bicepparam');
  if (!/^using '\.\/main\.bicep'/m.test(t.get('infra/main.az.bicepparam') ?? '')) problems.push("infra/main.az.bicepparam: must start with using './main.bicep'");

  const yaml = t.get('azure.yaml') ?? '';
  const service = /^services:\s*\n\s+([\w-]+):/m.exec(yaml)?.[1];
  const fa = t.get(FUNCTION_APP) ?? '';
  if (!service || !fa.includes(`'azd-service-name': '${service}'`)) problems.push(`azure.yaml: service '${service}' is not the function app's azd-service-name tag`);
  for (const hook of ['preprovision', 'postprovision', 'predeploy']) {
    const run = new RegExp(`${hook}:[\\s\\S]*?run:\\s*(\\S+)`).exec(yaml)?.[1];
    if (!run) problems.push(`azure.yaml: no ${hook} hook`);
    else if (!t.has(run.replace(/^\.\//, ''))) problems.push(`azure.yaml: the ${hook} hook runs ${run}, which does not exist`);
  }
  const ignored = (t.get('.funcignore') ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (/remoteBuild:\s*true/.test(yaml) && !ignored.includes('node_modules')) problems.push('.funcignore: remote build needs node_modules left out of the package');
  for (const keep of ['functions', 'sql', 'host.json', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
    if (ignored.includes(keep)) problems.push(`.funcignore: ${keep} is needed by the remote build or at run time`);
  }
  return problems;
}

/** All the checks. */
export function checkInfraContract(t: Templates): string[] {
  return [checkAppSettings, checkStorage, checkRoles, checkNoSecrets, checkIdentityOnlyAccess, checkApiVersions, checkMonitoring, checkEventGrid, checkDeploymentWiring].flatMap((check) => check(t));
}

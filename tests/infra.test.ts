/**
 * The contract between the code and the Azure templates (no Bicep compiler or Azure account is
 * reachable here, so this reads the templates). The first test holds the real templates to the
 * contract; the others take one thing out of a copy of them and check that the contract notices,
 * so a check that could never fail would fail here.
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_ONLY_SETTINGS, settingsSchema } from '../functions/core/settings.js';
import { CONTAINERS, QUEUES } from '../functions/storage/blobStore.js';
import { objectEntries, resources, stripComments, variable } from './support/bicep.js';
import { BUILT_IN_ROLES, checkInfraContract, HOST_STORAGE_SETTINGS, readTemplates, type Templates } from './support/infraContract.js';

const templates = readTemplates();

/** A copy of the templates with `file` changed by `edit`, which must change something. */
function withEdit(file: string, edit: (text: string) => string): Templates {
  const copy = new Map(templates);
  const before = copy.get(file);
  if (before === undefined) throw new Error(`no ${file}`);
  const after = edit(before);
  if (after === before) throw new Error(`the edit changed nothing in ${file}`);
  copy.set(file, after);
  return copy;
}

/** Removes the line(s) matching `pattern`. */
const withoutLine = (file: string, pattern: RegExp) => withEdit(file, (text) => text.split('\n').filter((line) => !pattern.test(line)).join('\n'));

/** Removes the resource declaration `symbol` (from its `resource` line to its closing brace). */
const withoutResource = (file: string, symbol: string) =>
  withEdit(file, (text) => {
    const r = resources(stripComments(text)).find((d) => d.symbol === symbol);
    if (!r) throw new Error(`no resource ${symbol} in ${file}`);
    const start = text.search(new RegExp(`^[ \\t]*resource\\s+${symbol}\\b`, 'm'));
    const end = text.indexOf(r.body, start) + r.body.length;
    return text.slice(0, start) + text.slice(end);
  });

const FUNCTION_APP = 'infra/modules/functionApp.bicep';
const STORAGE = 'infra/modules/storage.bicep';
const ROLES = 'infra/modules/roleAssignments.bicep';

describe('infrastructure contract', () => {
  it('the templates give the code everything it reads, and nothing they must not', () => {
    expect(checkInfraContract(templates)).toEqual([]);
  });

  it('the function app sets every setting the code reads in Azure, the host storage ones, and no local-only one', () => {
    const settings = [...objectEntries(variable(stripComments(templates.get(FUNCTION_APP)!), 'appSettings')!).keys()].sort();
    const expected = [...Object.keys(settingsSchema.shape).filter((k) => !(k in LOCAL_ONLY_SETTINGS)), ...Object.keys(HOST_STORAGE_SETTINGS)];
    expect(settings).toEqual([...new Set(expected)].sort());
  });

  describe('fails when the templates lose something', () => {
    it.each(['MONITOR_SCHEDULE', 'SQL_SERVER', 'USAGE_API_TOKEN', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', 'AzureWebJobsStorage__queueServiceUri'])(
      'a setting: %s',
      (name) => {
        const problems = checkInfraContract(withoutLine(FUNCTION_APP, new RegExp(`^\\s*${name}:`)));
        expect(problems).toEqual([expect.stringMatching(new RegExp(`app setting ${name}, which the (code reads|Functions host needs)`))]);
      },
    );

    it.each(Object.values(CONTAINERS))('a container: %s', (name) => {
      const problems = checkInfraContract(withEdit(STORAGE, (t) => t.replace(new RegExp(`(var dataContainers = \\[.*)'${name}',? ?`), '$1')));
      expect(problems).toContain(`${STORAGE}: container '${name}', which the code uses (functions/storage/blobStore.ts), is not created`);
    });

    it.each(Object.values(QUEUES))('a queue: %s', (name) => {
      const problems = checkInfraContract(withEdit(STORAGE, (t) => t.replace(new RegExp(`(var queues = \\[.*)'${name}',? ?`), '$1')));
      expect(problems).toContain(`${STORAGE}: queue '${name}', which the code uses (functions/storage/blobStore.ts), is not created`);
    });

    it('the poison queues and the dead-letter container', () => {
      expect(checkInfraContract(withoutLine(STORAGE, /^var poisonQueues/))).toContain(`${STORAGE}: the <queue>-poison queues are not created (var poisonQueues)`);
      const noDeadLetter = checkInfraContract(withEdit(STORAGE, (t) => t.replace('[deploymentContainer, deadLetterContainer]', '[deploymentContainer]')));
      expect(noDeadLetter).toContain(`${STORAGE}: the containers resource does not create deadLetterContainer`);
    });

    it.each([
      ['functionBlobOwner', 'Storage Blob Data Owner'],
      ['functionQueueContributor', 'Storage Queue Data Contributor'],
      ['functionTableContributor', 'Storage Table Data Contributor'],
      ['functionMetricsPublisher', 'Monitoring Metrics Publisher'],
      ['functionSecretsUser', 'Key Vault Secrets User'],
    ])('a role assignment: %s', (symbol, roleName) => {
      const problems = checkInfraContract(withoutResource(ROLES, symbol));
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^no role assignment gives the function app identity ${roleName} on `))]);
    });

    it("Event Grid's role on the landing-events queue", () => {
      const problems = checkInfraContract(withoutResource('infra/modules/eventGrid.bicep', 'topicQueueSender'));
      expect(problems).toEqual([expect.stringMatching(/^no role assignment gives the Event Grid system topic Storage Queue Data Message Sender/)]);
    });
  });

  describe('fails when the templates grant or expose too much', () => {
    it('a role id that is not the documented built-in one', () => {
      const problems = checkInfraContract(withEdit(ROLES, (t) => t.replace(BUILT_IN_ROLES.storageQueueDataContributor.id, '974c5e8b-45b9-4653-ba55-5f855dd0fb89')));
      expect(problems).toContain(`${ROLES}: role storageQueueDataContributor is 974c5e8b-45b9-4653-ba55-5f855dd0fb89, but the documented id of Storage Queue Data Contributor is ${BUILT_IN_ROLES.storageQueueDataContributor.id}`);
    });

    it('a broader role than needed (Contributor instead of Storage Blob Data Owner)', () => {
      const problems = checkInfraContract(withEdit(ROLES, (t) => t.replace("storageBlobDataOwner: 'b7e6dc6d", "contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c'\n  storageBlobDataOwner: 'b7e6dc6d").replace(/(functionBlobOwner[\s\S]*?roleDefinitions', )roles\.storageBlobDataOwner\)/, '$1roles.contributor)')));
      expect(problems).toEqual([
        `${ROLES}: role contributor (b24988ac-6180-42a0-ab88-20f7382dd24c) is not one of the allowed built-in roles`,
        'no role assignment gives the function app identity Storage Blob Data Owner on storage (host storage (locks, keys, deployment package) and the data lake)',
        'role assignment unknown role contributor (b24988ac-6180-42a0-ab88-20f7382dd24c) for the function app identity on storage is not in the least-privilege list (tests/support/infraContract.ts REQUIRED_ROLES)',
      ]);
    });

    it('storage shared key access on, public blobs, an old TLS', () => {
      const problems = checkInfraContract(
        withEdit(STORAGE, (t) => t.replace('allowSharedKeyAccess: false', 'allowSharedKeyAccess: true').replace('allowBlobPublicAccess: false', 'allowBlobPublicAccess: true').replace("'TLS1_2'", "'TLS1_0'")),
      );
      expect(problems).toEqual([
        `${STORAGE}: allowSharedKeyAccess must be false (no account keys)`,
        `${STORAGE}: allowBlobPublicAccess must be false`,
        `${STORAGE}: minimumTlsVersion must be 'TLS1_2'`,
      ]);
    });

    it('SQL password authentication, a password, an open firewall range', () => {
      const sql = 'infra/modules/sql.bicep';
      const problems = checkInfraContract(
        withEdit(sql, (t) =>
          t
            .replace(/(resource entraOnly[\s\S]*?)azureADOnlyAuthentication: true/, '$1azureADOnlyAuthentication: false')
            .replace("version: '12.0'", "version: '12.0'\n    administratorLogin: 'sqladmin'\n    administratorLoginPassword: 'P@ssw0rd!'")
            .replace("endIpAddress: '0.0.0.0'", "endIpAddress: '255.255.255.255'"),
        ),
      );
      expect(problems).toEqual(
        expect.arrayContaining([
          `${sql}: SQL password authentication must be off (servers/azureADOnlyAuthentications)`,
          `${sql}: sets a password`,
          `${sql}: sets a SQL login (Azure SQL is Entra-only)`,
          expect.stringMatching(/firewall rule allowAzureServices opens '0\.0\.0\.0'–'255\.255\.255\.255'/),
        ]),
      );
    });

    it('a key in an output, a literal token in the app settings or the parameters', () => {
      expect(checkInfraContract(withEdit('infra/modules/storage.bicep', (t) => `${t}\noutput key string = storage.listKeys().keys[0].value\n`))).toEqual(
        expect.arrayContaining([`${STORAGE}: reads a key or secret with a list*() function`, `${STORAGE}: output key exposes a secret or a connection string`]),
      );
      expect(checkInfraContract(withEdit(FUNCTION_APP, (t) => t.replace(/USAGE_API_TOKEN: '.*'/, "USAGE_API_TOKEN: 'tok_live_123'")))).toContain(
        `${FUNCTION_APP}: USAGE_API_TOKEN must be a Key Vault reference, not a value`,
      );
      expect(checkInfraContract(withEdit('infra/main.parameters.json', (t) => t.replace('"${ALERT_EMAIL=}"', '"ops@example.com"')))).toContain(
        'infra/main.parameters.json: parameter alertEmail holds a literal value, not an azd environment reference',
      );
      expect(checkInfraContract(withEdit('infra/monitoring/pipeline.workbook.json', (t) => `${t}\nInstrumentationKey=00000000-0000-0000-0000-000000000000`))).toContain(
        'infra/monitoring/pipeline.workbook.json: holds an instrumentation key',
      );
    });
  });

  describe('fails when code and templates drift apart', () => {
    it('a setting value the code rejects, a setting nobody reads, a Flex-rejected setting', () => {
      const problems = checkInfraContract(
        withEdit(FUNCTION_APP, (t) => t.replace("SQL_AUTH: 'default'", "SQL_AUTH: 'managedidentity'").replace("CHURN_INACTIVE_DAYS: '7'", "CHURN_INACTIVE_DAYS: '7'\n  CHURN_INACTIVE_DAY: '8'\n  FUNCTIONS_WORKER_RUNTIME: 'node'")),
      );
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/app setting SQL_AUTH = 'managedidentity' is rejected by the code/),
          `${FUNCTION_APP}: app setting CHURN_INACTIVE_DAY is read by neither the code nor the host (a typo?)`,
          `${FUNCTION_APP}: app setting FUNCTIONS_WORKER_RUNTIME is not valid on Flex Consumption`,
        ]),
      );
    });

    it('a transform lease shorter than the function timeout', () => {
      const problems = checkInfraContract(withEdit('host.json', (t) => t.replace('"functionTimeout": "00:30:00"', '"functionTimeout": "01:00:00"')));
      expect(problems).toEqual([`${FUNCTION_APP}: TRANSFORM_LEASE_SECONDS (1800) is shorter than host.json's functionTimeout (3600 s)`]);
    });

    it('an alert or workbook query on a metric the code does not emit, a missing alert', () => {
      const alerts = 'infra/modules/alerts.bicep';
      const problems = checkInfraContract(withEdit(alerts, (t) => t.replace('"pipeline.queue.poison_messages"', '"pipeline.queue.poison_message"')));
      expect(problems).toEqual([`${alerts}: "pipeline.queue.poison_message" is not a metric or event the code emits (functions/core/telemetry.ts)`, `${alerts}: no alert rule for poison messages`]);
    });

    it('an alert or workbook query that does not parse (a keyword as a column name)', () => {
      const alerts = 'infra/modules/alerts.bicep';
      const problems = checkInfraContract(withEdit(alerts, (t) => t.replace('by runKind = tostring', 'by kind = tostring')));
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^${alerts}: alert query does not parse: .*by kind =`))]);
      const workbook = 'infra/monitoring/pipeline.workbook.json';
      const broken = checkInfraContract(withEdit(workbook, (t) => t.replace('| order by quarantinedPct desc', '| order quarantinedPct desc')));
      expect(broken).toEqual([expect.stringMatching(new RegExp(`^${workbook}: query quarantine-rate does not parse: `))]);
    });

    it('an API version nobody checked, a resource type nobody checked', () => {
      const problems = checkInfraContract(withEdit('infra/modules/keyVault.bicep', (t) => t.replace('Microsoft.KeyVault/vaults@2024-11-01', 'Microsoft.KeyVault/vaults@2026-01-01-preview')));
      expect(problems).toEqual([expect.stringMatching(/keyVault\.bicep:\d+: Microsoft\.KeyVault\/vaults@2026-01-01-preview is not the checked version \(2024-11-01\)/)]);
    });

    it('Event Grid delivering elsewhere than the upload queue', () => {
      const problems = checkInfraContract(withEdit('infra/modules/eventGrid.bicep', (t) => t.replace('queueName: landingEventsQueueName', "queueName: 'uploads'")));
      expect(problems).toEqual(['infra/modules/eventGrid.bicep: the subscription does not deliver to landingEventsQueueName']);
    });

    it('a resource without the tags', () => {
      const problems = checkInfraContract(withoutLine('infra/modules/keyVault.bicep', /^\s*tags: tags$/));
      expect(problems).toEqual([expect.stringMatching(/^infra\/modules\/keyVault\.bicep:\d+: resource vault has no tags$/)]);
    });

    it('a parameter azd or az does not give, an azd service the app is not tagged with', () => {
      expect(checkInfraContract(withEdit('infra/main.bicep', (t) => t.replace("param alertEmail string = ''", 'param alertEmail string\nparam costCentre string')))).toEqual([
        'infra/main.parameters.json: required parameter costCentre is not given',
        'infra/main.az.bicepparam: required parameter costCentre is not given',
      ]);
      expect(checkInfraContract(withEdit('azure.yaml', (t) => t.replace('  pipeline:', '  api:')))).toEqual(["azure.yaml: service 'api' is not the function app's azd-service-name tag"]);
    });
  });
});

/**
 * The contract between the code and the Azure templates (no Bicep compiler or Azure account is
 * reachable here, so this reads the templates). The first test holds the real templates to the
 * contract; the others take one thing out of a copy of them and check that the contract notices,
 * so a check that could never fail would fail here.
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_ONLY_SETTINGS, settingsSchema } from '../functions/core/settings.js';
import { CONTAINER_ACCESS, CONTAINERS, QUEUES } from '../functions/storage/blobStore.js';
import { objectEntries, resources, stripComments, variable } from './support/bicep.js';
import { BUILT_IN_ROLES, checkInfraContract, HOST_STORAGE_SETTINGS, readTemplates, type Templates } from './support/infraContract.js';

const templates = readTemplates();
/** The containers the app writes (CONTAINER_ACCESS): each needs its own Contributor role. */
const READ_WRITE_CONTAINERS = Object.entries(CONTAINER_ACCESS).filter(([, access]) => access === 'read-write').map(([name]) => name);

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
const LAKE = 'infra/modules/dataLake.bicep';
const HOST = 'infra/modules/hostStorage.bicep';
const MAIN = 'infra/main.bicep';
const SQL = 'infra/modules/sql.bicep';
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
    it.each(['MONITOR_SCHEDULE', 'SQL_SERVER', 'USAGE_API_TOKEN', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', 'AzureWebJobsStorage__tableServiceUri', 'DataStorage__queueServiceUri'])(
      'a setting: %s',
      (name) => {
        const problems = checkInfraContract(withoutLine(FUNCTION_APP, new RegExp(`^\\s*${name}:`)));
        expect(problems).toEqual([expect.stringMatching(new RegExp(`app setting ${name}, which the (code reads|Functions host needs)`))]);
      },
    );

    it.each(Object.values(CONTAINERS))('a container: %s', (name) => {
      const problems = checkInfraContract(withEdit(LAKE, (t) => t.replace(new RegExp(`(var read(Write)?Containers = \\[.*)'${name}',? ?`), '$1')));
      expect(problems).toContain(`${LAKE}: container '${name}', which the code uses (functions/storage/blobStore.ts), is not created`);
    });

    it.each(Object.values(QUEUES))('a queue: %s', (name) => {
      const problems = checkInfraContract(withEdit(LAKE, (t) => t.replace(new RegExp(`(var queues = \\[.*)'${name}',? ?`), '$1')));
      expect(problems).toContain(`${LAKE}: queue '${name}', which the code uses (functions/storage/blobStore.ts), is not created`);
    });

    it('the poison queues, the dead-letter container, the host\'s containers', () => {
      expect(checkInfraContract(withoutLine(LAKE, /^var poisonQueues/))).toContain(`${LAKE}: the <queue>-poison queues are not created (var poisonQueues)`);
      const noDeadLetter = checkInfraContract(withEdit(LAKE, (t) => t.replace('readWriteContainers, [deadLetterContainer])', 'readWriteContainers)')));
      expect(noDeadLetter).toContain(`${LAKE}: the containers resource does not create deadLetterContainer`);
      const noSecrets = checkInfraContract(withEdit(HOST, (t) => t.replace("'azure-webjobs-hosts', 'azure-webjobs-secrets'", "'azure-webjobs-hosts'")));
      expect(noSecrets).toContain(`${HOST}: the host's container 'azure-webjobs-secrets' is not created`);
    });

    it.each([
      ['functionHostContainers', /^no role assignment gives the function app identity Storage Blob Data Owner on hostStorage\/containers\/azure-webjobs-(hosts|secrets) /, 2],
      ['functionHostTables', /^no role assignment gives the function app identity Storage Table Data Contributor on hostStorage /, 1],
      ['functionReadContainers', /^no role assignment gives the function app identity Storage Blob Data Reader on dataLake\/containers\/landing /, 1],
      ['functionReadWriteContainers', new RegExp(`^no role assignment gives the function app identity Storage Blob Data Contributor on dataLake\\/containers\\/(${READ_WRITE_CONTAINERS.join('|')}) `), READ_WRITE_CONTAINERS.length],
      ['functionQueues', /^no role assignment gives the function app identity Storage Queue Data Contributor on dataLake\/queues\/(landing-events|transform-requests) /, 2],
      ['functionPoisonSenders', /^no role assignment gives the function app identity Storage Queue Data Message Sender on dataLake\/queues\/[a-z-]+-poison /, 2],
      ['functionPoisonReaders', /^no role assignment gives the function app identity Storage Queue Data Reader on dataLake\/queues\/[a-z-]+-poison /, 2],
      ['functionMetricsPublisher', /^no role assignment gives the function app identity Monitoring Metrics Publisher on appInsights /, 1],
      ['functionSecretsUser', /^no role assignment gives the function app identity Key Vault Secrets User on vault /, 1],
      ['deploymentPackageWriter', /^no role assignment gives the deployment identity Storage Blob Data Contributor on hostStorage\/containers\/deployment-package /, 1],
    ] as const)('a role assignment: %s', (symbol, message, count) => {
      const problems = checkInfraContract(withoutResource(ROLES, symbol));
      expect(problems).toHaveLength(count);
      for (const problem of problems) expect(problem).toMatch(message);
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

    it('a broader role than needed (Contributor instead of Storage Table Data Contributor)', () => {
      const problems = checkInfraContract(
        withEdit(ROLES, (t) =>
          t
            .replace("storageBlobDataOwner: 'b7e6dc6d", "contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c'\n  storageBlobDataOwner: 'b7e6dc6d")
            .replace(/(functionHostTables[\s\S]*?roleDefinitions', )roles\.storageTableDataContributor\)/, '$1roles.contributor)'),
        ),
      );
      expect(problems).toEqual([
        `${ROLES}: role contributor (b24988ac-6180-42a0-ab88-20f7382dd24c) is not one of the allowed built-in roles`,
        "no role assignment gives the function app identity Storage Table Data Contributor on hostStorage (the host's diagnostic events)",
        'role assignment unknown role contributor (b24988ac-6180-42a0-ab88-20f7382dd24c) for the function app identity on hostStorage is not in the least-privilege table (tests/support/infraContract.ts requiredGrants)',
      ]);
    });

    it('a role on a whole account instead of its containers or queues', () => {
      const problems = checkInfraContract(withEdit(ROLES, (t) => t.replace(/(resource functionQueues[\s\S]*?scope: )queueRefs\[i\]/, '$1dataLake')));
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^no role assignment gives the function app identity Storage Queue Data Contributor on dataLake\/queues\/landing-events /),
          'role assignment Storage Queue Data Contributor for the function app identity on dataLake is not in the least-privilege table (tests/support/infraContract.ts requiredGrants)',
        ]),
      );
    });

    it('write access where the code only reads (landing among the read-write containers)', () => {
      const problems = checkInfraContract(withEdit(LAKE, (t) => t.replace("var readContainers = ['landing']", 'var readContainers = []').replace("var readWriteContainers = ['bronze',", "var readWriteContainers = ['landing', 'bronze',")));
      expect(problems).toEqual(
        expect.arrayContaining([
          `${LAKE}: container 'landing' is in the wrong list: the code's access to it is 'read' (CONTAINER_ACCESS)`,
          expect.stringMatching(/^role assignment Storage Blob Data Contributor for the function app identity on dataLake\/containers\/landing is not in the least-privilege table/),
        ]),
      );
    });

    it.each([LAKE, HOST])('storage shared key access on, public blobs, an old TLS: %s', (file) => {
      const problems = checkInfraContract(
        withEdit(file, (t) => t.replace('allowSharedKeyAccess: false', 'allowSharedKeyAccess: true').replace('allowBlobPublicAccess: false', 'allowBlobPublicAccess: true').replace("'TLS1_2'", "'TLS1_0'")),
      );
      expect(problems).toEqual([`${file}: allowSharedKeyAccess must be false (no account keys)`, `${file}: allowBlobPublicAccess must be false`, `${file}: minimumTlsVersion must be 'TLS1_2'`]);
    });

    it('SQL password authentication, a password, an open firewall range', () => {
      const sql = SQL;
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
      expect(checkInfraContract(withEdit(LAKE, (t) => `${t}\noutput key string = storage.listKeys().keys[0].value\n`))).toEqual(
        expect.arrayContaining([`${LAKE}: reads a key or secret with a list*() function`, `${LAKE}: output key exposes a secret or a connection string`]),
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

  describe('storage: the host and the pipeline each in an account of their own', () => {
    it('a host setting pointing at the data lake', () => {
      const problems = checkInfraContract(withEdit(FUNCTION_APP, (t) => t.replace('AzureWebJobsStorage__blobServiceUri: hostStorage.', 'AzureWebJobsStorage__blobServiceUri: dataLake.')));
      expect(problems).toEqual([`${FUNCTION_APP}: app setting AzureWebJobsStorage__blobServiceUri must point at the host's storage account (hostStorage), not dataLake.properties.primaryEndpoints.blob`]);
    });

    it("the deployment package reached with the app's own identity", () => {
      const problems = checkInfraContract(withEdit(FUNCTION_APP, (t) => t.replace('userAssignedIdentityResourceId: deploymentIdentity.id', 'userAssignedIdentityResourceId: identity.id')));
      expect(problems).toEqual([`${FUNCTION_APP}: the deployment package must be reached with the deployment identity (deploymentIdentity.id)`]);
    });

    it('a queue trigger on the host connection', () => {
      const file = 'functions/triggers/transform.ts';
      const problems = checkInfraContract(withEdit(file, (t) => t.replace('connection: DATA_STORAGE_CONNECTION', "connection: 'AzureWebJobsStorage'")));
      expect(problems).toEqual([`${file}: queue trigger transform must use connection: DATA_STORAGE_CONNECTION (its queues are in the data lake)`]);
    });

    it('an HTTP function without the function key', () => {
      const file = 'functions/triggers/report.ts';
      const problems = checkInfraContract(withEdit(file, (t) => t.replace("authLevel: 'function'", "authLevel: 'anonymous'")));
      expect(problems).toEqual([`${file}: HTTP function 'report' must use authLevel: 'function' (function-key auth)`]);
    });

    it("a pipeline container in the host's account, one account for both", () => {
      const inHost = checkInfraContract(withEdit(HOST, (t) => t.replace("var deploymentContainer = 'deployment-package'", "var deploymentContainer = 'deployment-package'\nvar stray = ['bronze']")));
      expect(inHost).toContain(`${HOST}: 'bronze' belongs to the data lake, not to the host's account`);
      const oneAccount = checkInfraContract(withEdit(MAIN, (t) => t.replace('    name: hostStorageName\n', '    name: dataLakeName\n')));
      expect(oneAccount).toContain(`${MAIN}: the host's storage and the data lake must be two accounts (they have the same name)`);
    });
  });

  describe('fails on what only a compiler or a deployment would have told', () => {
    it('a conditional whose branch a module parameter does not allow (BCP036)', () => {
      const problems = checkInfraContract(withEdit(MAIN, (t) => t.replace('adminPrincipalType: sqlAdminPrincipalType', "adminPrincipalType: principalType == 'ServicePrincipal' ? 'Application' : principalType")));
      expect(problems).toEqual([
        expect.stringMatching(/^infra\/main\.bicep:\d+: module sql can pass adminPrincipalType = "" \(from principalType == 'ServicePrincipal' \? 'Application' : principalType\), which modules\/sql\.bicep does not allow .*BCP036$/),
        expect.stringMatching(/^infra\/main\.bicep:\d+: module sql can pass adminPrincipalType = "ServicePrincipal" .*BCP036$/),
      ]);
    });

    it('a value whose possible values cannot be listed, a parameter file default that is not allowed', () => {
      expect(checkInfraContract(withEdit(MAIN, (t) => t.replace('deployerPrincipalType: effectivePrincipalType', 'deployerPrincipalType: sqlAdminLogin')))).toEqual([
        expect.stringMatching(/module roles passes deployerPrincipalType = sqlAdminLogin, whose values cannot be listed/),
      ]);
      expect(checkInfraContract(withEdit('infra/main.parameters.json', (t) => t.replace('${AZURE_PRINCIPAL_TYPE=}', '${AZURE_PRINCIPAL_TYPE=Robot}')))).toEqual([
        "infra/main.parameters.json: the default of principalType, 'Robot', is not one of its allowed values (, User, ServicePrincipal, Group)",
      ]);
    });

    it('a maximum instance count Flex Consumption rejects', () => {
      expect(checkInfraContract(withEdit(MAIN, (t) => t.replace('param functionMaximumInstanceCount int = 40', 'param functionMaximumInstanceCount int = 10')))).toEqual([
        `${MAIN}: functionMaximumInstanceCount defaults to 10, below 40`,
      ]);
      expect(checkInfraContract(withEdit(MAIN, (t) => t.replace('maximumInstanceCount: functionMaximumInstances', 'maximumInstanceCount: functionMaximumInstanceCount')))).toEqual([
        `${MAIN}: the function app's maximumInstanceCount (functionMaximumInstanceCount) can be below 40, which Flex Consumption rejects outside westeurope, australiaeast, westus2`,
      ]);
      expect(checkInfraContract(withEdit(MAIN, (t) => t.replace("['westeurope', 'australiaeast', 'westus2']", "['westeurope', 'australiaeast', 'westus2', 'eastus']")))).toEqual([
        `${MAIN}: eastus is not a region where Flex Consumption documents a maximum instance count below 40 (FLEX_LOW_MAXIMUM_INSTANCE_REGIONS)`,
      ]);
    });

    it('an instance memory size Flex Consumption does not offer', () => {
      const problems = checkInfraContract(withEdit(MAIN, (t) => t.replace('@allowed([512, 2048, 4096])', '@allowed([512, 1024, 2048, 4096])')));
      expect(problems).toEqual([`${MAIN}: instanceMemoryMB can be 1024, which Flex Consumption does not offer (512, 2048, 4096)`]);
    });

    it('a database too small for one function group at full scale', () => {
      const problems = checkInfraContract(withEdit(MAIN, (t) => t.replace('@allowed([2, 4])', '@allowed([1, 2, 4])')));
      expect(problems).toEqual([`${MAIN}: with 1 vCore(s) the database has 75 workers, fewer than one function group can use (40 instances × 2 connections, POOL_MAX_PER_INSTANCE)`]);
    });

    it('a create-only property sent on every deployment', () => {
      const unguarded = checkInfraContract(withEdit(SQL, (t) => t.replace('var createOnlyProperties = (serverExists', 'var createOnlyProperties = (true')));
      expect(unguarded).toEqual([
        expect.stringMatching(/^infra\/modules\/sql\.bicep: var createOnlyProperties sends administrators to server on every deployment; guard it/),
      ]);
      const alwaysNew = checkInfraContract(withEdit(MAIN, (t) => t.replace('serverExists: existingSqlServerName == sqlServerName', 'serverExists: false')));
      expect(alwaysNew).toEqual([`${MAIN}: serverExists is false: it must come from the environment, or administrators is sent on every deployment`]);
      const direct = checkInfraContract(withEdit(SQL, (t) => t.replace("      minimalTlsVersion: '1.2'\n", "      minimalTlsVersion: '1.2'\n      administratorLogin: adminLogin\n").replace('properties: union(', 'properties: union(').replace(/properties: union\(\n {4}(\{[\s\S]*?\n {4}\}),\n {4}createOnlyProperties\n {2}\)/, 'properties: $1')));
      expect(direct).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^infra\/modules\/sql\.bicep:\d+: server sends administratorLogin on every deployment, but the API accepts it on create only/),
          `${SQL}: sets a SQL login (Azure SQL is Entra-only)`,
        ]),
      );
    });

    it('an event subscription that does not wait for its role assignments', () => {
      const problems = checkInfraContract(withEdit('infra/modules/eventGrid.bicep', (t) => t.replace('dependsOn: [topicQueueSender, topicDeadLetterWriter]', 'dependsOn: [topicDeadLetterWriter]')));
      expect(problems).toEqual([expect.stringMatching(/the event subscription does not depend on role assignment topicQueueSender/)]);
    });
  });

  describe('network isolation, in both layouts', () => {
    it('off by default', () => {
      expect(checkInfraContract(withEdit(MAIN, (t) => t.replace('param vnetEnabled bool = true', 'param vnetEnabled bool = false')))).toEqual([`${MAIN}: param vnetEnabled bool = true (network isolation on by default)`]);
    });

    it("the host's account, or SQL, still public with the network", () => {
      const host = checkInfraContract(withEdit(HOST, (t) => t.replace("publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'", "publicNetworkAccess: 'Enabled'")));
      expect(host).toEqual([`${HOST}: with vnetEnabled, publicNetworkAccess must be 'Disabled' (is Enabled)`]);
      const sql = checkInfraContract(withEdit(SQL, (t) => t.replace("publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'", "publicNetworkAccess: 'Enabled'")));
      expect(sql).toEqual([`${SQL}: with vnetEnabled, publicNetworkAccess must be 'Disabled' (is Enabled)`]);
    });

    it("the data lake's firewall open with the network, or closed without", () => {
      const open = checkInfraContract(withEdit(LAKE, (t) => t.replace("defaultAction: vnetEnabled ? 'Deny' : 'Allow'", "defaultAction: 'Allow'")));
      expect(open).toEqual([expect.stringMatching(/^infra\/modules\/dataLake\.bicep: with vnetEnabled, the firewall must deny by default/)]);
      const closed = checkInfraContract(withEdit(LAKE, (t) => t.replace("defaultAction: vnetEnabled ? 'Deny' : 'Allow'", "defaultAction: 'Deny'")));
      expect(closed).toEqual([expect.stringMatching(/^infra\/modules\/dataLake\.bicep: without vnetEnabled, the firewall must allow the public endpoint/)]);
      const noTrusted = checkInfraContract(withEdit(LAKE, (t) => t.replace("bypass: 'AzureServices'", "bypass: 'None'")));
      expect(noTrusted).toEqual([expect.stringMatching(/with vnetEnabled, the firewall must deny by default and let trusted services \(Event Grid\) through/)]);
    });

    it('a service without its private endpoint, or its DNS zone, or the zone not linked', () => {
      const noQueue = checkInfraContract(withoutLine(MAIN, /name: 'lake-queue'/));
      expect(noQueue).toEqual([`${MAIN}: no private endpoint for dataLake's queue service (var privateEndpoints)`]);
      const noZone = checkInfraContract(withoutLine('infra/modules/network.bicep', /groupId: 'table'/));
      expect(noZone).toEqual(['infra/modules/network.bicep: no private DNS zone for the table endpoints (var privateDnsZones)']);
      const unlinked = checkInfraContract(withoutResource('infra/modules/network.bicep', 'zoneLinks'));
      expect(unlinked).toEqual(['infra/modules/network.bicep: every private DNS zone must be linked to the network (virtualNetworkLinks, registrationEnabled false)']);
    });

    it('the app subnet not delegated, the app outside the network, the network deployed without vnetEnabled', () => {
      expect(checkInfraContract(withEdit('infra/modules/network.bicep', (t) => t.replace("serviceName: 'Microsoft.App/environments'", "serviceName: 'Microsoft.Web/serverFarms'")))).toEqual([
        'infra/modules/network.bicep: the app subnet must be delegated to Microsoft.App/environments (Flex Consumption)',
      ]);
      expect(checkInfraContract(withEdit(MAIN, (t) => t.replace("appSubnetId: vnetEnabled ? network.outputs.appSubnetId : ''", "appSubnetId: ''")))).toEqual([
        `${MAIN}: with vnetEnabled, the app must join the network's app subnet (appSubnetId)`,
      ]);
      expect(checkInfraContract(withEdit(MAIN, (t) => t.replace("module network 'modules/network.bicep' = if (vnetEnabled) {", "module network 'modules/network.bicep' = {")))).toEqual([
        `${MAIN}: the network module must be deployed if (vnetEnabled)`,
      ]);
    });

    it('a SQL firewall rule kept with the network, or missing without it', () => {
      const kept = checkInfraContract(withEdit(SQL, (t) => t.replace("= if (!vnetEnabled) {", '= {')));
      expect(kept).toEqual([expect.stringMatching(/^infra\/modules\/sql\.bicep:\d+: with vnetEnabled, firewall rule allowAzureServices must not be deployed/)]);
      const missing = checkInfraContract(withoutResource(SQL, 'allowAzureServices'));
      expect(missing).toEqual([`${SQL}: without vnetEnabled, the app reaches SQL through the Azure-services rule (0.0.0.0), which is missing`]);
    });
  });
});

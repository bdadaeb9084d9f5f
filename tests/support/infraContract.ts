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
import { CONTAINER_ACCESS, CONTAINERS, DATA_STORAGE_CONNECTION, QUEUES } from '../../functions/storage/blobStore.js';
import { POOL_MAX_PER_INSTANCE } from '../../functions/warehouse/mssql/mssqlWarehouse.js';
import { kqlSyntaxErrors } from './kql.js';
import { allowedValues, entryAt, minValue, modules, skipBalanced, objectEntries, outputs, params, resources, stringArray, stringLiteral, stripComments, variable, type ModuleDecl, type ResourceDecl } from './bicep.js';
import { decide, possibleValues, splitTernary, unwrap, valueWith, type Value } from './bicepValues.js';

export type Templates = Map<string, string>;

const ROOT = path.resolve(import.meta.dirname, '../..');

/** infra/** (Bicep, parameters, workbook), azure.yaml, host.json, .funcignore and the trigger files, by path from the repo root. */
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
  walk('functions/triggers');
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
  storageBlobDataReader: { name: 'Storage Blob Data Reader', id: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1' },
  storageQueueDataContributor: { name: 'Storage Queue Data Contributor', id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' },
  storageQueueDataMessageSender: { name: 'Storage Queue Data Message Sender', id: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a' },
  storageQueueDataReader: { name: 'Storage Queue Data Reader', id: '19e7f393-937e-4f77-808e-94535e297925' },
  storageTableDataContributor: { name: 'Storage Table Data Contributor', id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' },
  monitoringMetricsPublisher: { name: 'Monitoring Metrics Publisher', id: '3913510d-42f4-4e42-8a64-420c390055eb' },
  keyVaultSecretsUser: { name: 'Key Vault Secrets User', id: '4633458b-17de-408a-b874-0445c86b69e6' },
  keyVaultSecretsOfficer: { name: 'Key Vault Secrets Officer', id: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' },
} as const;
type RoleKey = keyof typeof BUILT_IN_ROLES;

/** The containers the Functions host keeps its state in (locks and timers; keys), created by the templates. */
export const HOST_CONTAINERS = ['azure-webjobs-hosts', 'azure-webjobs-secrets'] as const;
export const DEPLOYMENT_CONTAINER = 'deployment-package';
export const DEAD_LETTER_CONTAINER = 'event-deadletter';

type Principal = 'function app identity' | 'deployment identity' | 'Event Grid system topic' | 'deployer';
const PRINCIPALS: Record<string, Principal> = {
  functionIdentityPrincipalId: 'function app identity',
  deploymentIdentityPrincipalId: 'deployment identity',
  'systemTopic.identity.principalId': 'Event Grid system topic',
  deployerPrincipalId: 'deployer',
};

/**
 * A role on a scope: `hostStorage` or `dataLake` (the account, named by its module in main.bicep),
 * `<account>/containers/<name>`, `<account>/queues/<name>`, `appInsights`, `vault`.
 */
export interface Grant {
  principal: Principal;
  role: RoleKey;
  scope: string;
  why: string;
}

/**
 * Who needs which role on what: the least-privilege table. The data lake's part is derived from
 * the code (CONTAINERS with CONTAINER_ACCESS, QUEUES), so a new container or queue needs only
 * code and Bicep; the rest is the host's, the deployment's, Event Grid's and the deployer's.
 */
export function requiredGrants(): Grant[] {
  const app = 'function app identity' as const;
  const grants: Grant[] = [];
  for (const [key, name] of Object.entries(CONTAINERS) as [keyof typeof CONTAINERS, string][]) {
    const read = CONTAINER_ACCESS[key] === 'read';
    grants.push({ principal: app, role: read ? 'storageBlobDataReader' : 'storageBlobDataContributor', scope: `dataLake/containers/${name}`, why: read ? 'the pipeline reads it' : 'the pipeline writes and reads it' });
  }
  for (const name of Object.values(QUEUES)) {
    // Update Message (the trigger extending or releasing a message) needs queues/messages/write,
    // which also allows Put Message: nothing narrower than Contributor lets a trigger work.
    grants.push({ principal: app, role: 'storageQueueDataContributor', scope: `dataLake/queues/${name}`, why: 'its queue trigger receives, updates and deletes messages' });
    grants.push({ principal: app, role: 'storageQueueDataMessageSender', scope: `dataLake/queues/${name}-poison`, why: 'the host moves a failed message to the poison queue' });
    grants.push({ principal: app, role: 'storageQueueDataReader', scope: `dataLake/queues/${name}-poison`, why: 'the monitor counts and peeks at poison messages' });
  }
  for (const name of HOST_CONTAINERS) grants.push({ principal: app, role: 'storageBlobDataOwner', scope: `hostStorage/containers/${name}`, why: "the host's locks, timer state and keys" });
  grants.push(
    { principal: app, role: 'storageTableDataContributor', scope: 'hostStorage', why: "the host's diagnostic events" },
    { principal: app, role: 'monitoringMetricsPublisher', scope: 'appInsights', why: 'Entra-authenticated telemetry' },
    { principal: app, role: 'keyVaultSecretsUser', scope: 'vault', why: 'the USAGE_API_TOKEN Key Vault reference' },
    { principal: 'deployment identity', role: 'storageBlobDataContributor', scope: `hostStorage/containers/${DEPLOYMENT_CONTAINER}`, why: 'the platform writes and reads the deployment package' },
    { principal: 'Event Grid system topic', role: 'storageQueueDataMessageSender', scope: `dataLake/queues/${QUEUES.landingEvents}`, why: 'delivering BlobCreated to landing-events' },
    { principal: 'Event Grid system topic', role: 'storageBlobDataContributor', scope: `dataLake/containers/${DEAD_LETTER_CONTAINER}`, why: 'dead-lettering undeliverable events' },
    { principal: 'deployer', role: 'keyVaultSecretsOfficer', scope: 'vault', why: 'setting the usage API token' },
  );
  return grants;
}

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
  'Microsoft.Network/virtualNetworks': '2024-05-01',
  'Microsoft.Network/privateEndpoints': '2024-05-01',
  'Microsoft.Network/privateEndpoints/privateDnsZoneGroups': '2024-05-01',
  'Microsoft.Network/privateDnsZones': '2024-06-01',
  'Microsoft.Network/privateDnsZones/virtualNetworkLinks': '2024-06-01',
};

/**
 * Settings only the Functions host reads: its own identity-based storage (AzureWebJobsStorage),
 * and the parts of the queue triggers' connection (DATA_STORAGE_CONNECTION) the code has no use for.
 */
export const HOST_STORAGE_SETTINGS = {
  AzureWebJobsStorage__accountName: 'the account (the host derives any service URI not given)',
  AzureWebJobsStorage__blobServiceUri: 'blobs: host locks and keys',
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
  private cache = new Map<string, unknown>();
  constructor(
    readonly file: string,
    text: string,
  ) {
    this.code = stripComments(text);
  }
  private memo<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }
  resources(): ResourceDecl[] {
    return this.memo('resources', () => resources(this.code));
  }
  ofType(type: string): ResourceDecl[] {
    return this.resources().filter((r) => r.type === type && !r.existing);
  }
  variable(name: string): string | undefined {
    return this.memo(`var ${name}`, () => variable(this.code, name));
  }
  modules(): ModuleDecl[] {
    return this.memo('modules', () => modules(this.code));
  }
  symbol(name: string): ResourceDecl | undefined {
    return this.resources().find((r) => r.symbol === name);
  }
}

/** One parsed Bicep per template text (the checks look at the same files many times). */
const parsed = new WeakMap<Templates, Map<string, Bicep>>();

function bicepFiles(t: Templates): Bicep[] {
  return [...t.keys()].filter((f) => f.endsWith('.bicep')).map((f) => bicep(t, f));
}

function bicep(t: Templates, file: string): Bicep {
  const text = t.get(file);
  if (text === undefined) throw new Error(`${file} is missing`);
  let files = parsed.get(t);
  if (!files) parsed.set(t, (files = new Map<string, Bicep>()));
  let b = files.get(file);
  if (!b) files.set(file, (b = new Bicep(file, text)));
  return b;
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

// ---- following values across modules --------------------------------------------------------------

/** The module declaration in main.bicep that deploys `file`, and the file a module of main deploys. */
function callerOf(t: Templates, file: string): ModuleDecl | undefined {
  return bicep(t, MAIN).modules().find((m) => `infra/${m.path.replace(/^\.\//, '')}` === file);
}
const moduleFile = (m: ModuleDecl) => `infra/${m.path.replace(/^\.\//, '')}`;

/**
 * The string values an expression in `file` stands for, followed through variables, array
 * indexes, parameters (to what main.bicep passes) and module outputs. Undefined when it leads
 * anywhere else (a runtime property, a function call).
 */
function resolveStrings(t: Templates, file: string, expr: string, depth = 0): string[] | undefined {
  if (depth > 12) return undefined;
  const e = unwrap(expr);
  const b = bicep(t, file);
  const lit = stringLiteral(e);
  if (lit !== undefined) return [lit];
  if (e.startsWith('[')) {
    const items = [...e.slice(1, -1).matchAll(/'(?:[^'\\]|\\.)*'|[\w.[\]]+/g)].map((m) => m[0]);
    const out = items.map((item) => resolveStrings(t, file, item, depth + 1));
    return out.every(Boolean) ? out.flatMap((x) => x!) : undefined;
  }
  const indexed = /^(\w+)\[(\d+)\]$/.exec(e);
  if (indexed) {
    const list = resolveStrings(t, file, indexed[1]!, depth + 1);
    const item = list?.[Number(indexed[2])];
    return item === undefined ? undefined : [item];
  }
  const out = /^(\w+)\.outputs\.(\w+)$/.exec(e);
  if (out && file === MAIN) {
    const m = b.modules().find((x) => x.symbol === out[1]);
    const o = m && outputs(bicep(t, moduleFile(m)).code).find((x) => x.name === out[2]);
    return o?.value === undefined ? undefined : resolveStrings(t, moduleFile(m!), o.value, depth + 1);
  }
  if (/^\w+$/.test(e)) {
    const v = b.variable(e);
    if (v !== undefined) {
      // `[for q in queues: '${q}-poison']`
      const loop = /^\[\s*for\s+(\w+)\s+in\s+(\w+)\s*:\s*'([^']*)'\s*\]$/.exec(v.trim());
      if (loop) return resolveStrings(t, file, loop[2]!, depth + 1)?.map((x) => loop[3]!.replaceAll(`\${${loop[1]}}`, x));
      return resolveStrings(t, file, v, depth + 1);
    }
    if (params(b.code).some((p) => p.name === e)) {
      const passed = callerOf(t, file)?.params.get(e);
      return passed === undefined ? undefined : resolveStrings(t, MAIN, passed, depth + 1);
    }
  }
  return undefined;
}

/** Which module of main.bicep a storage account named by `nameExpr` in `file` is (hostStorage, dataLake), via the parameter main passes. */
function accountModule(t: Templates, file: string, nameExpr: string): string | undefined {
  const e = unwrap(nameExpr);
  if (file === MAIN) return /^(\w+)\.outputs\.name$/.exec(e)?.[1];
  if (!params(bicep(t, file).code).some((p) => p.name === e)) return undefined;
  const passed = callerOf(t, file)?.params.get(e);
  return passed === undefined ? undefined : accountModule(t, MAIN, passed);
}

/** A resource declaration's object (for a loop, its body) and loop. */
function declObject(r: ResourceDecl): { object: string; loop?: { item: string; list: string } } {
  const body = r.body.trim();
  if (body.startsWith('{')) return { object: body };
  const m = /^\[\s*for\s+(?:\((\w+)\s*,\s*\w+\)|(\w+))\s+in\s+([\s\S]*?):\s*(\{[\s\S]*\})\s*\]$/.exec(body);
  if (!m) throw new Error(`cannot read the body of resource ${r.symbol}`);
  return { object: m[4]!, loop: { item: (m[1] ?? m[2])!, list: m[3]!.trim() } };
}

/** The canonical scopes (see Grant) a role assignment's `scope:` expression in `file` stands for; undefined if unreadable. */
function scopesOf(t: Templates, file: string, scopeExpr: string): string[] | undefined {
  const b = bicep(t, file);
  // the chain of declarations from the account down to the scope: `a::b::c`, or `x[i]` / `x` with `parent:` links
  const chain: ResourceDecl[] = [];
  const parts = scopeExpr.replace(/\[\w+\]$/, '').split('::');
  let decl = b.symbol(parts[0]!);
  if (!decl) return undefined;
  chain.push(decl);
  for (const part of parts.slice(1)) {
    decl = resources(declObject(decl).object).find((r) => r.symbol === part);
    if (!decl) return undefined;
    chain.push(decl);
  }
  for (let parent = entryAt(declObject(chain[0]!).object, 'parent'); parent; parent = entryAt(declObject(chain[0]!).object, 'parent')) {
    const p = b.symbol(parent);
    if (!p) return undefined;
    chain.unshift(p);
  }
  const top = chain[0]!;
  const last = chain.at(-1)!;
  if (top.type === 'Microsoft.Insights/components') return ['appInsights'];
  if (top.type === 'Microsoft.KeyVault/vaults') return ['vault'];
  if (top.type !== 'Microsoft.Storage/storageAccounts') return undefined;
  const account = accountModule(t, file, entryAt(declObject(top).object, 'name') ?? '');
  if (!account) return undefined;
  if (last === top) return [account];
  const kind = /(^|\/)containers$/.test(last.type) ? 'containers' : /(^|\/)queues$/.test(last.type) ? 'queues' : undefined;
  if (!kind) return undefined;
  const { object, loop } = declObject(last);
  const nameExpr = entryAt(object, 'name') ?? '';
  let names: string[] | undefined;
  if (loop) {
    const items = resolveStrings(t, file, loop.list);
    const template = stringLiteral(nameExpr) === undefined && /^'.*'$/.test(nameExpr) ? nameExpr.slice(1, -1) : undefined;
    names = nameExpr === loop.item ? items : template ? items?.map((x) => template.replaceAll(`\${${loop.item}}`, x)) : undefined;
  } else names = resolveStrings(t, file, nameExpr);
  return names?.map((n) => `${account}/${kind}/${n}`);
}

// ---- the checks ---------------------------------------------------------------------------------

const FUNCTION_APP = 'infra/modules/functionApp.bicep';
const DATA_LAKE = 'infra/modules/dataLake.bicep';
const HOST_STORAGE = 'infra/modules/hostStorage.bicep';
const MAIN = 'infra/main.bicep';
const SQL = 'infra/modules/sql.bicep';

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
  problems.push(...checkStorageWiring(t));
  return problems;
}

/** A storage account or identity declared `existing` in `file`, by the module of main.bicep its name comes from. */
function existingFrom(t: Templates, file: string, type: string, module: string): string | undefined {
  return bicep(t, file)
    .resources()
    .find((r) => r.existing && r.type === type && accountModule(t, file, entryAt(r.body, 'name') ?? '') === module)?.symbol;
}

/**
 * The host's settings point at the host's account and the pipeline's at the data lake; the queue
 * triggers use the pipeline's connection; the deployment package is in the host's account and
 * reached with the deployment identity, which the app's code never uses.
 */
function checkStorageWiring(t: Templates): string[] {
  const problems: string[] = [];
  const fa = bicep(t, FUNCTION_APP);
  const settings = objectEntries(fa.variable('appSettings') ?? '{}');
  const host = existingFrom(t, FUNCTION_APP, 'Microsoft.Storage/storageAccounts', 'hostStorage');
  const lake = existingFrom(t, FUNCTION_APP, 'Microsoft.Storage/storageAccounts', 'dataLake');
  if (!host || !lake) return [`${FUNCTION_APP}: the app must know both storage accounts (existing resources named from main.bicep's hostStorage and dataLake outputs)`];
  for (const [name, expr] of settings) {
    const want = name.startsWith('AzureWebJobsStorage__') ? host : name.startsWith(`${DATA_STORAGE_CONNECTION}__`) ? lake : undefined;
    if (!want || !/ServiceUri$|__accountName$/.test(name)) continue;
    if (!new RegExp(`^${want}\\.`).test(expr)) problems.push(`${FUNCTION_APP}: app setting ${name} must point at the ${want === host ? "host's storage account" : 'data lake'} (${want}), not ${expr}`);
  }
  const identities = fa.resources().filter((r) => r.existing && r.type === 'Microsoft.ManagedIdentity/userAssignedIdentities');
  const named = (module: string) => identities.find((r) => resolveParamInMain(t, FUNCTION_APP, entryAt(r.body, 'name') ?? '') === `${module}.outputs.name`)?.symbol;
  const appIdentity = named('identity');
  const deployIdentity = named('deploymentIdentity');
  const site = fa.ofType('Microsoft.Web/sites')[0];
  const storage = site ? entryAt(site.body, 'properties.functionAppConfig.deployment.storage') ?? '' : '';
  if (!deployIdentity || deployIdentity === appIdentity) problems.push(`${FUNCTION_APP}: the deployment package needs an identity of its own (main.bicep's deploymentIdentity), not the app's`);
  else {
    if (entryAt(storage, 'authentication.userAssignedIdentityResourceId') !== `${deployIdentity}.id`) problems.push(`${FUNCTION_APP}: the deployment package must be reached with the deployment identity (${deployIdentity}.id)`);
    if (!new RegExp(`'\\$\\{${deployIdentity}\\.id\\}'`).test(entryAt(site!.body, 'identity.userAssignedIdentities') ?? '')) problems.push(`${FUNCTION_APP}: the site must carry the deployment identity`);
  }
  if (!new RegExp(`^'\\$\\{${host}\\.properties\\.primaryEndpoints\\.blob\\}`).test(entryAt(storage, 'value') ?? '')) problems.push(`${FUNCTION_APP}: the deployment package must be in the host's storage account (${host})`);
  for (const clientId of [settings.get('AZURE_CLIENT_ID'), settings.get('AzureWebJobsStorage__clientId'), settings.get(`${DATA_STORAGE_CONNECTION}__clientId`)]) {
    if (clientId !== undefined && clientId !== `${appIdentity}.properties.clientId`) problems.push(`${FUNCTION_APP}: the app's code and host must use the app's identity (${appIdentity}), not ${clientId}`);
  }
  // every queue trigger uses the pipeline's connection,
  for (const [file, text] of t) {
    if (!file.startsWith('functions/triggers/')) continue;
    for (const m of text.matchAll(/app\.storageQueue\(\s*'(\w+)'\s*,\s*(\{[\s\S]*?\})\s*\)/g)) {
      if (!/connection:\s*DATA_STORAGE_CONNECTION\b/.test(m[2]!)) problems.push(`${file}: queue trigger ${m[1]} must use connection: DATA_STORAGE_CONNECTION (its queues are in the data lake)`);
    }
    // and every HTTP function needs the function key (the ops endpoints, the report)
    for (const m of text.matchAll(/app\.http\(\s*([^,]+?)\s*,\s*\{([\s\S]*?)\}\s*\)/g)) {
      if (!/authLevel:\s*'function'/.test(m[2]!)) problems.push(`${file}: HTTP function ${m[1]} must use authLevel: 'function' (function-key auth)`);
    }
  }
  return problems;
}

/** The expression main.bicep passes for parameter `expr` of `file`, or `expr` itself when it is not a parameter. */
function resolveParamInMain(t: Templates, file: string, expr: string): string {
  const e = unwrap(expr);
  if (!params(bicep(t, file).code).some((p) => p.name === e)) return e;
  return callerOf(t, file)?.params.get(e) ?? e;
}

/** A storage account's lock-down: no keys, no public blobs, TLS 1.2. */
function accountLockedDown(file: string, b: Bicep): string[] {
  const problems: string[] = [];
  const account = b.ofType('Microsoft.Storage/storageAccounts')[0];
  if (!account) return [`${file}: no storage account`];
  const prop = (p: string) => entryAt(account.body, `properties.${p}`);
  if (prop('allowSharedKeyAccess') !== 'false') problems.push(`${file}: allowSharedKeyAccess must be false (no account keys)`);
  if (prop('allowBlobPublicAccess') !== 'false') problems.push(`${file}: allowBlobPublicAccess must be false`);
  if (prop('minimumTlsVersion') !== "'TLS1_2'") problems.push(`${file}: minimumTlsVersion must be 'TLS1_2'`);
  return problems;
}

/** Which names a resource loop over `concat(a, b, [c])` / `concat(a, b)` creates, as the variables it names. */
function loopCreates(b: Bicep, type: string): string[] {
  const r = b.ofType(type)[0];
  const head = r?.body.slice(0, r.body.indexOf(':')) ?? '';
  return [...head.matchAll(/\b(\w+)\b/g)].map((m) => m[1]!).filter((w) => !['for', 'in', 'concat'].includes(w));
}

/**
 * Two accounts: the data lake holds every container and queue the code uses (each container in the
 * list of its access, CONTAINER_ACCESS), Event Grid's dead-letter container and the poison queues;
 * the host's account holds the host's containers and the deployment package, and none of the
 * pipeline's. Both are locked down.
 */
export function checkStorage(t: Templates): string[] {
  const problems: string[] = [];
  const lake = bicep(t, DATA_LAKE);
  const host = bicep(t, HOST_STORAGE);
  const arrayVar = (b: Bicep, file: string, name: string) => {
    const expr = b.variable(name);
    if (!expr) {
      problems.push(`${file}: no \`var ${name}\``);
      return [];
    }
    return stringArray(expr);
  };
  const readContainers = arrayVar(lake, DATA_LAKE, 'readContainers');
  const readWriteContainers = arrayVar(lake, DATA_LAKE, 'readWriteContainers');
  const queues = arrayVar(lake, DATA_LAKE, 'queues');
  for (const [key, name] of Object.entries(CONTAINERS) as [keyof typeof CONTAINERS, string][]) {
    const [list, other] = CONTAINER_ACCESS[key] === 'read' ? [readContainers, readWriteContainers] : [readWriteContainers, readContainers];
    if (!list.includes(name) && !other.includes(name)) problems.push(`${DATA_LAKE}: container '${name}', which the code uses (functions/storage/blobStore.ts), is not created`);
    else if (!list.includes(name)) problems.push(`${DATA_LAKE}: container '${name}' is in the wrong list: the code's access to it is '${CONTAINER_ACCESS[key]}' (CONTAINER_ACCESS)`);
  }
  for (const name of Object.values(QUEUES)) {
    if (!queues.includes(name)) problems.push(`${DATA_LAKE}: queue '${name}', which the code uses (functions/storage/blobStore.ts), is not created`);
  }
  if (stringLiteral(lake.variable('deadLetterContainer') ?? '') !== DEAD_LETTER_CONTAINER) problems.push(`${DATA_LAKE}: no Event Grid dead-letter container (var deadLetterContainer = '${DEAD_LETTER_CONTAINER}')`);
  if (!/'\$\{queue\}-poison'/.test(lake.variable('poisonQueues') ?? '')) problems.push(`${DATA_LAKE}: the <queue>-poison queues are not created (var poisonQueues)`);
  const check = (b: Bicep, file: string, type: string, needles: string[]) => {
    const created = loopCreates(b, type);
    for (const n of needles) if (!created.includes(n)) problems.push(`${file}: the ${type.split('/').pop()} resource does not create ${n}`);
  };
  check(lake, DATA_LAKE, 'Microsoft.Storage/storageAccounts/blobServices/containers', ['readContainers', 'readWriteContainers', 'deadLetterContainer']);
  check(lake, DATA_LAKE, 'Microsoft.Storage/storageAccounts/queueServices/queues', ['queues', 'poisonQueues']);
  // outputs the other modules wire by name must be the names the code uses
  const outs = new Map(outputs(lake.code).map((o) => [o.name, o.value ?? '']));
  if (resolveStrings(t, DATA_LAKE, outs.get('landingContainerName') ?? '')?.[0] !== CONTAINERS.landing) problems.push(`${DATA_LAKE}: output landingContainerName is not '${CONTAINERS.landing}'`);
  if (resolveStrings(t, DATA_LAKE, outs.get('landingEventsQueueName') ?? '')?.[0] !== QUEUES.landingEvents) problems.push(`${DATA_LAKE}: output landingEventsQueueName is not '${QUEUES.landingEvents}'`);
  const blobService = lake.ofType('Microsoft.Storage/storageAccounts/blobServices')[0];
  if (!blobService || entryAt(blobService.body, 'properties.deleteRetentionPolicy.enabled') !== 'true') problems.push(`${DATA_LAKE}: blob soft delete (deleteRetentionPolicy) must be enabled`);
  const lifecycle = lake.ofType('Microsoft.Storage/storageAccounts/managementPolicies')[0];
  if (!lifecycle || !/prefixMatch:\s*\['bronze\/'\]/.test(lifecycle.body) || !/tierToCool/.test(lifecycle.body)) problems.push(`${DATA_LAKE}: no lifecycle rule moving bronze/ to the cool tier`);

  // the host's account: its containers and the package, nothing of the pipeline's
  const hostContainers = arrayVar(host, HOST_STORAGE, 'hostContainers');
  for (const name of HOST_CONTAINERS) if (!hostContainers.includes(name)) problems.push(`${HOST_STORAGE}: the host's container '${name}' is not created`);
  if (stringLiteral(host.variable('deploymentContainer') ?? '') !== DEPLOYMENT_CONTAINER) problems.push(`${HOST_STORAGE}: no deployment package container (var deploymentContainer = '${DEPLOYMENT_CONTAINER}')`);
  check(host, HOST_STORAGE, 'Microsoft.Storage/storageAccounts/blobServices/containers', ['hostContainers', 'deploymentContainer']);
  const pipelineNames = new Set<string>([...Object.values(CONTAINERS), ...Object.values(QUEUES)]);
  for (const name of stringArray(`[${[...host.code.matchAll(/'[a-z0-9-]+'/g)].map((m) => m[0]).join(', ')}]`)) {
    if (pipelineNames.has(name)) problems.push(`${HOST_STORAGE}: '${name}' belongs to the data lake, not to the host's account`);
  }
  for (const [file, b] of [[DATA_LAKE, lake], [HOST_STORAGE, host]] as const) problems.push(...accountLockedDown(file, b));

  // two accounts, each deployed once by main.bicep under a name of its own
  const main = bicep(t, MAIN);
  const host_ = main.modules().filter((m) => moduleFile(m) === HOST_STORAGE);
  const lake_ = main.modules().filter((m) => moduleFile(m) === DATA_LAKE);
  if (host_.length !== 1 || host_[0]!.symbol !== 'hostStorage') problems.push(`${MAIN}: the host's storage must be one module named hostStorage (${HOST_STORAGE})`);
  if (lake_.length !== 1 || lake_[0]!.symbol !== 'dataLake') problems.push(`${MAIN}: the data lake must be one module named dataLake (${DATA_LAKE})`);
  if (host_[0] && lake_[0] && host_[0].params.get('name') === lake_[0].params.get('name')) problems.push(`${MAIN}: the host's storage and the data lake must be two accounts (they have the same name)`);
  return problems;
}

/** Every role is a documented built-in one, every needed grant exists (requiredGrants), and nothing else is granted. */
export function checkRoles(t: Templates): string[] {
  const problems: string[] = [];
  const byId = new Map<string, RoleKey>(Object.entries(BUILT_IN_ROLES).map(([k, v]) => [v.id, k as RoleKey]));
  const found: { principal: string; role: string; scope: string }[] = [];
  for (const file of bicepFiles(t)) {
    const rolesExpr = file.variable('roles');
    const roleIds = rolesExpr ? objectEntries(rolesExpr) : new Map<string, string>();
    for (const [key, expr] of roleIds) {
      const id = stringLiteral(expr) ?? '';
      const documented = BUILT_IN_ROLES[key as RoleKey] as { name: string; id: string } | undefined;
      if (!documented) problems.push(`${file.file}: role ${key} (${id}) is not one of the allowed built-in roles`);
      else if (documented.id !== id) problems.push(`${file.file}: role ${key} is ${id}, but the documented id of ${documented.name} is ${documented.id}`);
    }
    for (const r of file.ofType('Microsoft.Authorization/roleAssignments')) {
      const { object } = declObject(r);
      const definition = entryAt(object, 'properties.roleDefinitionId') ?? '';
      const ref = /^subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions',\s*roles\.(\w+)\)$/.exec(definition);
      if (!ref) {
        problems.push(`${file.file}:${r.line}: role assignment ${r.symbol} must name its role as subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.<name>)`);
        continue;
      }
      const id = stringLiteral(roleIds.get(ref[1]!) ?? '') ?? '';
      const role: string = byId.get(id) ?? `unknown role ${ref[1]} (${id})`;
      const principalExpr = entryAt(object, 'properties.principalId') ?? '';
      const scopeExpr = entryAt(object, 'scope') ?? '';
      const scopes = scopeExpr ? scopesOf(t, file.file, scopeExpr) : ['the resource group'];
      if (!scopes) {
        problems.push(`${file.file}:${r.line}: cannot tell what role assignment ${r.symbol} is scoped to (${scopeExpr})`);
        continue;
      }
      for (const scope of scopes) found.push({ principal: PRINCIPALS[principalExpr] ?? `unknown principal ${principalExpr}`, role, scope });
    }
  }
  const required = requiredGrants();
  for (const need of required) {
    if (!found.some((f) => f.principal === need.principal && f.role === need.role && f.scope === need.scope)) {
      problems.push(`no role assignment gives the ${need.principal} ${BUILT_IN_ROLES[need.role].name} on ${need.scope} (${need.why})`);
    }
  }
  for (const f of found) {
    if (!required.some((need) => need.principal === f.principal && need.role === f.role && need.scope === f.scope)) {
      const name = f.role in BUILT_IN_ROLES ? BUILT_IN_ROLES[f.role as RoleKey].name : f.role;
      problems.push(`role assignment ${name} for the ${f.principal} on ${f.scope} is not in the least-privilege table (tests/support/infraContract.ts requiredGrants)`);
    }
  }
  // the modules must be wired to the identities they are about, and the two identities be two
  const main = t.get(MAIN) ?? '';
  if (!/functionIdentityPrincipalId:\s*identity\.outputs\.principalId/.test(main)) problems.push(`${MAIN}: the role assignments are not given the function app identity`);
  if (!/deploymentIdentityPrincipalId:\s*deploymentIdentity\.outputs\.principalId/.test(main)) problems.push(`${MAIN}: the role assignments are not given the deployment identity`);
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
  const sql = bicep(t, SQL);
  const server = sql.ofType('Microsoft.Sql/servers')[0];
  // created with an Entra admin and Entra-only authentication (on create only: checkCreateOnlyProperties)
  const onCreate = splitTernary(sql.variable('createOnlyProperties') ?? '');
  const admins = onCreate ? [onCreate.then, onCreate.else].map((branch) => entryAt(branch, 'administrators')).find(Boolean) : undefined;
  if (!server || !/\bcreateOnlyProperties\b/.test(entryAt(server.body, 'properties') ?? '') || entryAt(admins ?? '{}', 'azureADOnlyAuthentication') !== 'true') {
    problems.push(`${SQL}: the server must be created with an Entra admin and azureADOnlyAuthentication: true (var createOnlyProperties)`);
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
  // Event Grid checks nothing at creation, and a 403 is not retried: the subscription at least
  // waits for the topic's role assignments to exist (their taking effect is README's concern)
  const dependsOn = entryAt(sub.body, 'dependsOn') ?? '';
  for (const r of eg.ofType('Microsoft.Authorization/roleAssignments')) {
    if (entryAt(r.body, 'properties.principalId') === 'systemTopic.identity.principalId' && !new RegExp(`\\b${r.symbol}\\b`).test(dependsOn)) {
      problems.push(`infra/modules/eventGrid.bicep: the event subscription does not depend on role assignment ${r.symbol}: it could be created, and deliver, before the topic may write`);
    }
  }
  const main = t.get('infra/main.bicep') ?? '';
  for (const wire of ['storageAccountName: dataLake.outputs.name', 'landingEventsQueueName: dataLake.outputs.landingEventsQueueName', 'landingContainerName: dataLake.outputs.landingContainerName', 'deadLetterContainerName: dataLake.outputs.deadLetterContainerName']) {
    if (!main.includes(wire)) problems.push(`infra/main.bicep: the Event Grid module is not given ${wire.split(':')[0]} from the data lake module`);
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

/** The object literals of an array literal, as entry maps. */
function arrayObjects(arrayText: string): Map<string, string>[] {
  const text = unwrap(arrayText);
  const objects: Map<string, string>[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '{') {
      const end = skipBalanced(text, i);
      objects.push(objectEntries(text.slice(i, end)));
      i = end - 1;
    } else if (text[i] === "'") i = text.indexOf("'", i + 1);
  }
  return objects;
}

/** The values `item.<prop>` takes in a loop over `list` (array variables of object literals, or a conditional between them). */
function loopItemValues(file: Bicep, list: string, prop: string): Value[] | undefined {
  const t = splitTernary(list);
  const branches = t ? [t.then, t.else] : [list];
  const values: Value[] = [];
  for (const b of branches) {
    const e = unwrap(b);
    const arrayText = e.startsWith('[') ? e : file.variable(e);
    if (arrayText === undefined) return undefined;
    for (const o of arrayObjects(arrayText)) {
      const v = possibleValues(o.get(prop) ?? '', file.code);
      if (!v) return undefined;
      values.push(...v);
    }
  }
  return [...new Set(values)];
}

/**
 * Every value a caller can pass to a module parameter with `@allowed` is allowed: a literal, each
 * branch of a conditional, any value a parameter with `@allowed` of its own allows (Bicep does not
 * narrow it on `==`, Azure/bicep#16564; a value outside the target's list is BCP036, a compile
 * error: Azure/bicep#11889). A value whose possible values cannot be listed is reported too. The
 * parameter files' defaults must be allowed values of main.bicep.
 */
export function checkModuleParameterValues(t: Templates): string[] {
  const problems: string[] = [];
  for (const file of bicepFiles(t)) {
    for (const m of file.modules()) {
      const target = `${path.posix.dirname(file.file)}/${m.path.replace(/^\.\//, '')}`;
      const targetText = t.get(path.posix.normalize(target));
      if (targetText === undefined) {
        problems.push(`${file.file}:${m.line}: module ${m.symbol} deploys ${m.path}, which does not exist`);
        continue;
      }
      for (const p of params(stripComments(targetText))) {
        const allowed = allowedValues(p);
        const passed = m.params.get(p.name);
        if (!allowed || passed === undefined) continue;
        const values = m.loop && new RegExp(`^${m.loop.item}\\.(\\w+)$`).test(passed.trim()) ? loopItemValues(file, m.loop.list, passed.trim().split('.')[1]!) : possibleValues(passed, file.code);
        if (!values) {
          problems.push(`${file.file}:${m.line}: module ${m.symbol} passes ${p.name} = ${passed}, whose values cannot be listed; ${p.name} allows only ${allowed.map(String).join(', ')} (make each branch a literal)`);
          continue;
        }
        for (const v of values) {
          if (!allowed.includes(v as string | number)) {
            problems.push(`${file.file}:${m.line}: module ${m.symbol} can pass ${p.name} = ${JSON.stringify(v)} (from ${passed}), which ${m.path} does not allow (${allowed.map((a) => JSON.stringify(a)).join(', ')}): BCP036`);
          }
        }
      }
    }
  }
  // defaults in the parameter files
  const main = bicep(t, MAIN);
  const declared = new Map(params(main.code).map((p) => [p.name, p]));
  const defaults: [string, string, string][] = [];
  const azd = JSON.parse(t.get('infra/main.parameters.json') ?? '{"parameters":{}}') as { parameters: Record<string, { value?: unknown }> };
  for (const [name, p] of Object.entries(azd.parameters)) {
    const m = typeof p.value === 'string' ? /^\$\{[A-Z0-9_]+=([^}]*)\}$/.exec(p.value) : null;
    if (m) defaults.push(['infra/main.parameters.json', name, m[1]!]);
  }
  for (const m of stripComments(t.get('infra/main.az.bicepparam') ?? '').matchAll(/^\s*param\s+(\w+)\s*=\s*readEnvironmentVariable\('\w+',\s*'([^']*)'\)/gm)) defaults.push(['infra/main.az.bicepparam', m[1]!, m[2]!]);
  for (const [file, name, value] of defaults) {
    const allowed = declared.get(name) && allowedValues(declared.get(name)!);
    if (allowed && !allowed.some((a) => String(a) === value)) problems.push(`${file}: the default of ${name}, '${value}', is not one of its allowed values (${allowed.map(String).join(', ')})`);
  }
  return problems;
}

/**
 * Regions where Flex Consumption accepts a maximum instance count below 40, as a preview: West
 * Europe, Australia East, West US 2 (a Functions PM on Azure/azure-functions-host#10523, January
 * 2026). Everywhere else the lowest maximum is 40 (MicrosoftDocs/azure-docs#128255; Flex
 * Consumption plan, "Considerations").
 */
export const FLEX_LOW_MAXIMUM_INSTANCE_REGIONS = ['westeurope', 'australiaeast', 'westus2'];
export const FLEX_LOWEST_MAXIMUM_INSTANCES = 40;
export const FLEX_INSTANCE_MEMORY_MB = [512, 2048, 4096];

/**
 * Max concurrent workers of serverless General Purpose (Gen5) databases by max vCores
 * (https://learn.microsoft.com/azure/azure-sql/database/resource-limits-vcore-single-databases,
 * "General purpose - serverless compute - Gen5"). Sessions are 30,000 at every size; workers,
 * one per running request, are what a scaled-out app exhausts first (error 10928).
 */
export const SERVERLESS_MAX_WORKERS: Record<number, number> = { 1: 75, 2: 150, 4: 300, 6: 450, 8: 600 };

/**
 * Flex Consumption's limits: the maximum instance count reaching the app is at least 40 unless
 * the region is one where lower is documented, and the memory is an allowed size. And one function
 * group at its maximum, each instance with its full SQL pool, stays within the workers of the
 * smallest database the templates allow.
 */
export function checkFlexLimits(t: Templates): string[] {
  const problems: string[] = [];
  const main = bicep(t, MAIN);
  const app = main.modules().find((m) => moduleFile(m) === FUNCTION_APP);
  if (!app) return [`${MAIN}: no function app module`];
  const declared = new Map(params(main.code).map((p) => [p.name, p]));

  // maximumInstanceCount: a literal or a parameter at least 40, or raised to 40 outside the low-maximum regions
  const passed = unwrap(app.params.get('maximumInstanceCount') ?? '');
  const expr = main.variable(passed) ?? passed;
  const minimumOf = (e: string): number | undefined => {
    const n = /^\d+$/.test(unwrap(e)) ? Number(unwrap(e)) : undefined;
    if (n !== undefined) return n;
    const p = declared.get(unwrap(e));
    return p ? minValue(p) : undefined;
  };
  const clamp = splitTernary(expr);
  const raised = clamp && /^max\((\w+),\s*(\d+)\)$/.exec(unwrap(clamp.else));
  const regionList = clamp && /^contains\((\w+),/.exec(unwrap(clamp.cond))?.[1];
  if (clamp && raised && regionList) {
    if (Number(raised[2]) < FLEX_LOWEST_MAXIMUM_INSTANCES) problems.push(`${MAIN}: outside the low-maximum regions the maximum instance count is raised to ${raised[2]}, below Flex Consumption's lowest maximum (${FLEX_LOWEST_MAXIMUM_INSTANCES})`);
    const regions = stringArray(main.variable(regionList) ?? '[]');
    for (const r of regions) if (!FLEX_LOW_MAXIMUM_INSTANCE_REGIONS.includes(r)) problems.push(`${MAIN}: ${r} is not a region where Flex Consumption documents a maximum instance count below ${FLEX_LOWEST_MAXIMUM_INSTANCES} (FLEX_LOW_MAXIMUM_INSTANCE_REGIONS)`);
  } else {
    const min = minimumOf(expr);
    if (min === undefined || min < FLEX_LOWEST_MAXIMUM_INSTANCES) problems.push(`${MAIN}: the function app's maximumInstanceCount (${passed}) can be below ${FLEX_LOWEST_MAXIMUM_INSTANCES}, which Flex Consumption rejects outside ${FLEX_LOW_MAXIMUM_INSTANCE_REGIONS.join(', ')}`);
  }
  const countParam = declared.get('functionMaximumInstanceCount');
  const defaultCount = Number(countParam?.value ?? NaN);
  if (!(defaultCount >= FLEX_LOWEST_MAXIMUM_INSTANCES)) problems.push(`${MAIN}: functionMaximumInstanceCount defaults to ${countParam?.value}, below ${FLEX_LOWEST_MAXIMUM_INSTANCES}`);

  // instance memory: only the sizes Flex Consumption offers
  const memory = possibleValues(app.params.get('instanceMemoryMB') ?? '', main.code);
  if (!memory) problems.push(`${MAIN}: cannot list the function app's instanceMemoryMB values`);
  else for (const v of memory) if (!FLEX_INSTANCE_MEMORY_MB.includes(v as number)) problems.push(`${MAIN}: instanceMemoryMB can be ${String(v)}, which Flex Consumption does not offer (${FLEX_INSTANCE_MEMORY_MB.join(', ')})`);

  // SQL: one function group at its default maximum, each instance with its whole pool, within the smallest database's workers
  const vcores = (declared.get('sqlMaxVCores') && allowedValues(declared.get('sqlMaxVCores')!)) as number[] | undefined;
  if (!vcores?.length) problems.push(`${MAIN}: sqlMaxVCores must list its allowed sizes (@allowed)`);
  else {
    const instances = Math.max(defaultCount || 0, FLEX_LOWEST_MAXIMUM_INSTANCES);
    for (const v of vcores) {
      const workers = SERVERLESS_MAX_WORKERS[v];
      if (workers === undefined) problems.push(`${MAIN}: sqlMaxVCores allows ${v}, whose worker limit is not in SERVERLESS_MAX_WORKERS`);
      else if (POOL_MAX_PER_INSTANCE * instances > workers) {
        problems.push(`${MAIN}: with ${v} vCore(s) the database has ${workers} workers, fewer than one function group can use (${instances} instances × ${POOL_MAX_PER_INSTANCE} connections, POOL_MAX_PER_INSTANCE)`);
      }
    }
  }
  return problems;
}

/**
 * Properties the API accepts when a resource is created and rejects on later updates. Sending them
 * on every deployment makes the second `azd provision` fail; each must sit in a variable of the
 * form `<param>Exists ? {} : {…}` (or the reverse), merged with union(), whose parameter main.bicep
 * sets from the environment, not to a constant.
 */
export const CREATE_ONLY_PROPERTIES: { type: string; property: string; why: string }[] = [
  {
    type: 'Microsoft.Sql/servers',
    property: 'administrators',
    why: 'x-ms-mutability read/create; "To update the azureADOnlyAuthentication property, individual API must be used" (template reference), AadOnlyAuthenticationIsEnabled on re-deploys (Azure/bicep#6858, Azure/bicep-types-az#2320)',
  },
  { type: 'Microsoft.Sql/servers', property: 'administratorLogin', why: 'set at creation, cannot be changed (template reference)' },
];

export function checkCreateOnlyProperties(t: Templates): string[] {
  const problems: string[] = [];
  for (const file of bicepFiles(t)) {
    for (const { type, property, why } of CREATE_ONLY_PROPERTIES) {
      for (const r of file.ofType(type)) {
        const props = entryAt(declObject(r).object, 'properties') ?? '';
        // a direct entry is sent every time
        if (props.trim().startsWith('{') && objectEntries(props).has(property)) {
          problems.push(`${file.file}:${r.line}: ${r.symbol} sends ${property} on every deployment, but the API accepts it on create only (${why})`);
          continue;
        }
        for (const name of [...props.matchAll(/\b(\w+)\b/g)].map((m) => m[1]!)) {
          const v = file.variable(name);
          if (v === undefined || !new RegExp(`\\b${property}\\s*:`).test(v)) continue;
          const tern = splitTernary(v);
          const guard = tern && /^!?\s*(\w+)$/.exec(unwrap(tern.cond))?.[1];
          const emptyOnUpdate = tern && (unwrap(tern.then) === '{}' || unwrap(tern.else) === '{}');
          if (!guard || !emptyOnUpdate || !/Exists$/.test(guard) || !params(file.code).some((p) => p.name === guard)) {
            problems.push(`${file.file}: var ${name} sends ${property} to ${r.symbol} on every deployment; guard it with a parameter saying the resource exists (\`serverExists ? {} : {…}\`): the API accepts it on create only (${why})`);
            continue;
          }
          const passed = callerOf(t, file.file)?.params.get(guard);
          if (passed === undefined || /^(true|false)$/.test(unwrap(passed))) problems.push(`${MAIN}: ${guard} is ${passed ?? 'not passed'}: it must come from the environment, or ${property} is sent ${passed === 'false' ? 'on every deployment' : 'never, not even on create'}`);
        }
      }
    }
  }
  return problems;
}

/**
 * Both network layouts, as vnetEnabled decides them. On: a virtual network with a subnet delegated
 * to Microsoft.App/environments that the app joins, a private endpoint for every storage service
 * the app uses on either account and for Azure SQL, a private DNS zone for each, linked to the
 * network; the host's account and SQL with public access off, the data lake's firewall closed to
 * everything but Event Grid (trusted service) and the listed addresses; no SQL firewall rule.
 * Off: today's public layout (public endpoints, the Azure-services SQL rule, no network).
 */
export function checkNetworkIsolation(t: Templates): string[] {
  const problems: string[] = [];
  const main = bicep(t, MAIN);
  const vnetParam = params(main.code).find((p) => p.name === 'vnetEnabled');
  if (!vnetParam || vnetParam.type !== 'bool' || vnetParam.value !== 'true') problems.push(`${MAIN}: param vnetEnabled bool = true (network isolation on by default)`);
  const azd = (JSON.parse(t.get('infra/main.parameters.json') ?? '{"parameters":{}}') as { parameters: Record<string, { value?: string }> }).parameters;
  if (!/^\$\{VNET_ENABLED=true\}$/.test(azd.vnetEnabled?.value ?? '')) problems.push('infra/main.parameters.json: vnetEnabled must come from ${VNET_ENABLED=true}');
  // every module with a vnetEnabled parameter gets main's
  for (const m of main.modules()) {
    const declares = params(bicep(t, moduleFile(m)).code).some((p) => p.name === 'vnetEnabled');
    if (declares && m.params.get('vnetEnabled') !== 'vnetEnabled') problems.push(`${MAIN}: module ${m.symbol} is not given vnetEnabled`);
  }
  const network = main.modules().find((m) => moduleFile(m) === 'infra/modules/network.bicep');
  if (!network || network.condition !== 'vnetEnabled') problems.push(`${MAIN}: the network module must be deployed if (vnetEnabled)`);

  // the network: the app's delegated subnet, and a zone linked to it per private endpoint group
  const net = t.has('infra/modules/network.bicep') ? bicep(t, 'infra/modules/network.bicep') : undefined;
  const vnet = net?.ofType('Microsoft.Network/virtualNetworks')[0];
  const subnets = vnet ? entryAt(vnet.body, 'properties.subnets') ?? '' : '';
  if (!/serviceName:\s*'Microsoft\.App\/environments'/.test(subnets)) problems.push('infra/modules/network.bicep: the app subnet must be delegated to Microsoft.App/environments (Flex Consumption)');
  const zones = new Map([...(net?.variable('privateDnsZones') ?? '').matchAll(/groupId:\s*'(\w+)',\s*zone:\s*'([^']+)'/g)].map((m) => [m[1]!, m[2]!]));
  const link = net?.ofType('Microsoft.Network/privateDnsZones/virtualNetworkLinks')[0];
  if (!link || entryAt(declObject(link).object, 'properties.virtualNetwork.id') !== 'vnet.id' || entryAt(declObject(link).object, 'properties.registrationEnabled') !== 'false') {
    problems.push('infra/modules/network.bicep: every private DNS zone must be linked to the network (virtualNetworkLinks, registrationEnabled false)');
  }
  const zoneLoops = net ? loopCreates(net, 'Microsoft.Network/privateDnsZones') : [];
  if (!zoneLoops.includes('privateDnsZones')) problems.push('infra/modules/network.bicep: the private DNS zones must be created from var privateDnsZones');
  const expectedZone: Record<string, RegExp> = { blob: /^privatelink\.blob\./, queue: /^privatelink\.queue\./, table: /^privatelink\.table\./, sqlServer: /^privatelink\$\{environment\(\)\.suffixes\.sqlServerHostname\}$/ };

  // private endpoints: which (account, group) pairs exist
  const pes = arrayObjects(main.variable('privateEndpoints') ?? '[]').map((o) => {
    const target = /'(Microsoft\.[\w./]+)',\s*(\w+)\)$/.exec(o.get('target') ?? '');
    return { type: target?.[1], nameVar: target?.[2], groupId: stringLiteral(o.get('groupId') ?? '') };
  });
  const nameOf = (moduleSymbol: string, param: string) => main.modules().find((m) => m.symbol === moduleSymbol)?.params.get(param);
  const targets: Record<string, { nameVar?: string; type: string; groups: string[] }> = {
    hostStorage: { nameVar: nameOf('hostStorage', 'name'), type: 'Microsoft.Storage/storageAccounts', groups: ['blob', 'table'] },
    dataLake: { nameVar: nameOf('dataLake', 'name'), type: 'Microsoft.Storage/storageAccounts', groups: [...(Object.keys(CONTAINERS).length ? ['blob'] : []), ...(Object.keys(QUEUES).length ? ['queue'] : [])] },
    sql: { nameVar: nameOf('sql', 'serverName'), type: 'Microsoft.Sql/servers', groups: ['sqlServer'] },
  };
  for (const [target, need] of Object.entries(targets)) {
    for (const group of need.groups) {
      if (!pes.some((pe) => pe.type === need.type && pe.nameVar === need.nameVar && pe.groupId === group)) problems.push(`${MAIN}: no private endpoint for ${target}'s ${group} service (var privateEndpoints)`);
    }
  }
  for (const pe of pes) {
    const zone = pe.groupId === undefined ? undefined : zones.get(pe.groupId);
    if (!zone || !expectedZone[pe.groupId!]?.test(zone)) problems.push(`infra/modules/network.bicep: no private DNS zone for the ${pe.groupId} endpoints (var privateDnsZones)`);
  }
  const peModule = main.modules().find((m) => moduleFile(m) === 'infra/modules/privateEndpoint.bicep');
  if (!peModule || unwrap(peModule.loop?.list ?? '') !== 'vnetEnabled ? privateEndpoints : []') problems.push(`${MAIN}: the private endpoints must be deployed [for pe in (vnetEnabled ? privateEndpoints : [])]`);
  else if (!/network\.outputs\.privateDnsZoneIds\[pe\.groupId\]/.test(peModule.params.get('privateDnsZoneId') ?? '')) problems.push(`${MAIN}: each private endpoint must register in its group's zone (network.outputs.privateDnsZoneIds[pe.groupId])`);
  const pe = t.has('infra/modules/privateEndpoint.bicep') ? bicep(t, 'infra/modules/privateEndpoint.bicep') : undefined;
  if (!pe?.ofType('Microsoft.Network/privateEndpoints/privateDnsZoneGroups').length) problems.push('infra/modules/privateEndpoint.bicep: a private endpoint without a DNS zone group is not found by name');

  // each shape
  const app = main.modules().find((m) => moduleFile(m) === FUNCTION_APP);
  const site = bicep(t, FUNCTION_APP).ofType('Microsoft.Web/sites')[0];
  if (!/^empty\(appSubnetId\)\s*\?\s*null\s*:\s*appSubnetId$/.test(unwrap(entryAt(site?.body ?? '{}', 'properties.virtualNetworkSubnetId') ?? ''))) problems.push(`${FUNCTION_APP}: the site must join appSubnetId (virtualNetworkSubnetId) when it is given`);
  const lake = bicep(t, DATA_LAKE);
  const host = bicep(t, HOST_STORAGE);
  const sql = bicep(t, SQL);
  const lakeAccount = lake.ofType('Microsoft.Storage/storageAccounts')[0]?.body ?? '{}';
  const hostAccount = host.ofType('Microsoft.Storage/storageAccounts')[0]?.body ?? '{}';
  const server = sql.ofType('Microsoft.Sql/servers')[0];
  const serverProps = unwrap(entryAt(server?.body ?? '{}', 'properties') ?? '');
  const serverPublic = /^union\(/.test(serverProps) ? entryAt(serverProps.slice(6).split(/,\s*\w+\s*\)$/)[0]!.trim(), 'publicNetworkAccess') : entryAt(serverProps, 'publicNetworkAccess');
  for (const on of [true, false]) {
    const shape = on ? 'with vnetEnabled' : 'without vnetEnabled';
    const bind = { vnetEnabled: on };
    const v = (file: Bicep, expr: string | undefined) => (expr === undefined ? undefined : valueWith(expr, file.code, bind));
    const subnet = valueWith(app?.params.get('appSubnetId') ?? "''", main.code, bind);
    if (on ? !/^vnetEnabled \? network\.outputs\.appSubnetId : ''$/.test(unwrap(app?.params.get('appSubnetId') ?? '')) : subnet !== '') problems.push(`${MAIN}: ${shape}, the app must ${on ? 'join the network\'s app subnet' : 'join no subnet'} (appSubnetId)`);
    const hostPublic = v(host, entryAt(hostAccount, 'properties.publicNetworkAccess'));
    if (hostPublic !== (on ? 'Disabled' : 'Enabled')) problems.push(`${HOST_STORAGE}: ${shape}, publicNetworkAccess must be '${on ? 'Disabled' : 'Enabled'}' (is ${String(hostPublic)})`);
    const lakePublic = v(lake, entryAt(lakeAccount, 'properties.publicNetworkAccess'));
    const lakeDefault = v(lake, entryAt(lakeAccount, 'properties.networkAcls.defaultAction'));
    const lakeBypass = v(lake, entryAt(lakeAccount, 'properties.networkAcls.bypass'));
    if (on ? lakeDefault !== 'Deny' || lakeBypass !== 'AzureServices' || !['Enabled', 'Disabled'].includes(String(lakePublic)) : lakePublic !== 'Enabled' || lakeDefault !== 'Allow') {
      problems.push(`${DATA_LAKE}: ${shape}, the firewall must ${on ? "deny by default and let trusted services (Event Grid) through: defaultAction 'Deny', bypass 'AzureServices'" : "allow the public endpoint: publicNetworkAccess 'Enabled', defaultAction 'Allow'"} (is ${String(lakePublic)}, ${String(lakeDefault)}, ${String(lakeBypass)})`);
    }
    const ipRules = unwrap(entryAt(lakeAccount, 'properties.networkAcls.ipRules') ?? '[]');
    const ipSource = on ? (splitTernary(ipRules)?.then ?? ipRules) : (splitTernary(ipRules)?.else ?? ipRules);
    if (unwrap(ipSource) !== '[]' && !/allowedIpRanges/.test(lake.variable(unwrap(ipSource)) ?? '')) problems.push(`${DATA_LAKE}: ${shape}, the firewall's ipRules may only come from allowedIpRanges`);
    const sqlPublic = v(sql, serverPublic);
    if (sqlPublic !== (on ? 'Disabled' : 'Enabled')) problems.push(`${SQL}: ${shape}, publicNetworkAccess must be '${on ? 'Disabled' : 'Enabled'}' (is ${String(sqlPublic)})`);
    for (const rule of sql.ofType('Microsoft.Sql/servers/firewallRules')) {
      const deployed = rule.condition === undefined ? true : decide(rule.condition, bind);
      if (on && deployed !== false) problems.push(`${SQL}:${rule.line}: ${shape}, firewall rule ${rule.symbol} must not be deployed (public access is off)`);
      if (!on && deployed !== true) problems.push(`${SQL}:${rule.line}: ${shape}, firewall rule ${rule.symbol} must be deployed (the public layout)`);
    }
    if (!on && !sql.ofType('Microsoft.Sql/servers/firewallRules').length) problems.push(`${SQL}: ${shape}, the app reaches SQL through the Azure-services rule (0.0.0.0), which is missing`);
  }
  return problems;
}

/** All the checks. */
export function checkInfraContract(t: Templates): string[] {
  return [
    checkAppSettings,
    checkStorage,
    checkRoles,
    checkNoSecrets,
    checkIdentityOnlyAccess,
    checkApiVersions,
    checkMonitoring,
    checkEventGrid,
    checkDeploymentWiring,
    checkModuleParameterValues,
    checkFlexLimits,
    checkCreateOnlyProperties,
    checkNetworkIsolation,
  ].flatMap((check) => check(t));
}

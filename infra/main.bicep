// The whole Azure side of the pipeline, from an empty subscription: one resource group holding
// monitoring, storage, the function app and its identity, Key Vault, Azure SQL, Event Grid, and
// the alerts and workbook. `azd up` deploys it with main.parameters.json; `az deployment sub
// create` with main.az.bicepparam. The README ("Deploy to Azure") walks through both.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the environment (e.g. pipeline-dev); it names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region for every resource. It needs Flex Consumption and serverless Azure SQL: `az functionapp list-flexconsumption-locations` lists the first.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person or service principal deploying: the Azure SQL Entra admin, and Key Vault Secrets Officer (to set the usage API token). Empty: the deployer.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
@description('What principalId is.')
param principalType string = 'User'

@description('Display name of that principal for the Azure SQL admin (a UPN, or an app or group name). Empty: the deployer\'s UPN, or "sql-admin".')
param sqlAdminLogin string = ''

@description('Where alerts are e-mailed. Empty: the alerts still fire and show in the portal, but nobody is e-mailed.')
param alertEmail string = ''

@description('Base URL of the product usage API (https://…). Empty: the daily usage pull reports "not configured" until it is set.')
param usageApiBaseUrl string = ''

@description('First activity date (YYYY-MM-DD) the usage pull fetches when it has never run. Empty: yesterday.')
param usageStartDate string = ''

@description('NCRONTAB (UTC) of the monitor: source freshness and poison queues. Every 6 hours by default, not hourly as locally: each check wakes the serverless database, which would then never pause. Freshness thresholds are a day or more.')
param monitorSchedule string = '0 15 */6 * * *'

@minValue(1)
@maxValue(1000)
@description('Flex Consumption: most instances each function group scales out to. It bounds the connections to Azure SQL (up to 4 per instance) and the load on the usage API.')
param functionMaximumInstanceCount int = 10

@allowed([512, 2048, 4096])
@description('Flex Consumption: memory of each instance, in MB.')
param functionInstanceMemoryMB int = 2048

@allowed([1, 2, 4])
@description('Serverless Azure SQL: most vCores the database scales up to (its minimum is 0.5 vCores; above 4 the minimum rises, so change both together).')
param sqlMaxVCores int = 2

@minValue(15)
@maxValue(10080)
@description('Serverless Azure SQL: minutes without connections before the database pauses (it bills storage only while paused).')
param sqlAutoPauseDelayMinutes int = 60

@minValue(1)
@description('Days after which bronze blobs move to the cool tier.')
param bronzeCoolAfterDays int = 30

@description('Key Vault purge protection. It cannot be turned off again, and a torn-down vault then keeps its name for the retention period; turn it on for production.')
param keyVaultPurgeProtection bool = false

var abbrs = loadJsonContent('abbreviations.json')
// Stable per subscription, environment and region: re-deploying finds the same resources.
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName, workload: 'company-activity-pipeline' }

var deployerObjectId = empty(principalId) ? deployer().objectId : principalId
var deployerUpn = deployer().?userPrincipalName ?? ''
var sqlAdminName = !empty(sqlAdminLogin) ? sqlAdminLogin : (!empty(deployerUpn) ? deployerUpn : 'sql-admin')

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}func-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    appInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    bronzeCoolAfterDays: bronzeCoolAfterDays
  }
}

module keyVault 'modules/keyVault.bicep' = {
  name: 'keyVault'
  scope: resourceGroup
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    purgeProtection: keyVaultPurgeProtection
  }
}

module sql 'modules/sql.bicep' = {
  name: 'sql'
  scope: resourceGroup
  params: {
    serverName: '${abbrs.sqlServers}${resourceToken}'
    databaseName: '${abbrs.sqlServersDatabases}pipeline'
    location: location
    tags: tags
    adminObjectId: deployerObjectId
    adminLogin: sqlAdminName
    adminPrincipalType: principalType == 'ServicePrincipal' ? 'Application' : principalType
    maxVCores: sqlMaxVCores
    autoPauseDelayMinutes: sqlAutoPauseDelayMinutes
  }
}

module roles 'modules/roleAssignments.bicep' = {
  name: 'roleAssignments'
  scope: resourceGroup
  params: {
    functionIdentityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerObjectId
    deployerPrincipalType: principalType
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    keyVaultName: keyVault.outputs.name
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  scope: resourceGroup
  // the host reads its storage and App Insights with the identity from its first start
  dependsOn: [roles]
  params: {
    planName: '${abbrs.webServerFarms}${resourceToken}'
    appName: '${abbrs.webSitesFunctions}${resourceToken}'
    location: location
    tags: tags
    identityName: identity.outputs.name
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsName: monitoring.outputs.appInsightsName
    keyVaultName: keyVault.outputs.name
    usageApiTokenSecretName: keyVault.outputs.usageApiTokenSecretName
    sqlServerFqdn: sql.outputs.serverFqdn
    sqlDatabaseName: sql.outputs.databaseName
    usageApiBaseUrl: usageApiBaseUrl
    usageStartDate: usageStartDate
    monitorSchedule: monitorSchedule
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
  }
}

module eventGrid 'modules/eventGrid.bicep' = {
  name: 'eventGrid'
  scope: resourceGroup
  params: {
    systemTopicName: '${abbrs.eventGridSystemTopics}${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    landingContainerName: storage.outputs.landingContainerName
    landingEventsQueueName: storage.outputs.landingEventsQueueName
    deadLetterContainerName: storage.outputs.deadLetterContainerName
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: resourceGroup
  params: {
    namePrefix: resourceToken
    location: location
    tags: tags
    alertEmail: alertEmail
    appInsightsName: monitoring.outputs.appInsightsName
    systemTopicName: eventGrid.outputs.systemTopicName
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

// Names and addresses only: nothing secret leaves the deployment. azd saves these to
// .azure/<env>/.env, where the hooks (infra/scripts) read them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_IDENTITY_NAME string = identity.outputs.name
output AZURE_FUNCTION_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_USAGE_API_TOKEN_NAME string = keyVault.outputs.usageApiTokenSecretName
output AZURE_SQL_SERVER_NAME string = sql.outputs.serverName
output AZURE_SQL_SERVER_FQDN string = sql.outputs.serverFqdn
output AZURE_SQL_DATABASE_NAME string = sql.outputs.databaseName
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName

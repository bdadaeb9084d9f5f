// The whole Azure side of the pipeline, from an empty subscription: one resource group holding
// monitoring, the host's storage and the data lake, the function app and its identities, Key
// Vault, Azure SQL, Event Grid, the alerts and workbook, and (vnetEnabled, the default) the
// virtual network with the private endpoints. `azd up` deploys it with main.parameters.json; `az deployment sub
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

@allowed(['', 'User', 'ServicePrincipal', 'Group'])
@description('What principalId is. Empty: inferred, when principalId is the deployer (a user if deployer() has a user principal name, else a service principal); otherwise User. azd does not set AZURE_PRINCIPAL_TYPE: the pre-provision hook asks a service principal to.')
param principalType string = ''

@description('Application (client) id of principalId when it is a service principal: Azure SQL identifies an application admin by it, not by its object id.')
param principalClientId string = ''

@description('Display name of that principal for the Azure SQL admin (a UPN, or an app or group name). Empty: the deployer\'s UPN, or "sql-admin".')
param sqlAdminLogin string = ''

@description('Network isolation: the function app joins a virtual network, storage and Azure SQL are reached through private endpoints, and their public endpoints are closed (README, "Network isolation"). false: public endpoints, protected by Entra ID alone.')
param vnetEnabled bool = true

@description('With vnetEnabled: comma-separated public IPv4 addresses or CIDR ranges let through the data lake\'s firewall, e.g. the machines that upload CRM exports from outside the network. Empty: none.')
param dataLakeAllowedIpRanges string = ''

@description('The Azure SQL server an earlier provisioning of this environment created (azd passes its own output AZURE_SQL_SERVER_NAME back). When it is this deployment\'s server, the server\'s create-only properties are left out, so provisioning again changes nothing.')
param existingSqlServerName string = ''

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
@description('Flex Consumption: most on-demand instances of each function group. At least 40 (the lowest maximum Flex Consumption accepts), except in the regions of flexLowMaximumInstanceRegions below, where lower values are a preview; elsewhere a lower value is raised to 40. It bounds the connections to Azure SQL (2 per instance).')
param functionMaximumInstanceCount int = 40

@allowed([512, 2048, 4096])
@description('Flex Consumption: memory of each instance, in MB.')
param functionInstanceMemoryMB int = 2048

@allowed([2, 4])
@description('Serverless Azure SQL: most vCores the database scales up to (its minimum is 0.5 vCores either way; above 4 the minimum rises, so change both together). Not 1: its 75 workers are fewer than one function group at 40 instances can use (README, "Scale and Azure SQL").')
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

var deployerUpn = deployer().?userPrincipalName ?? ''
var sqlAdminName = !empty(sqlAdminLogin) ? sqlAdminLogin : (!empty(deployerUpn) ? deployerUpn : 'sql-admin')

// The principal that administers SQL and sets the token, and what it is. deployer() has a user
// principal name for a person only (https://learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions-deployment#deployer).
// Every branch below ends in a literal: Bicep does not narrow a union type on `==`
// (Azure/bicep#16564), so passing `principalType` itself on would carry '' into a module
// parameter that does not allow it (BCP036).
var principalObjectId = empty(principalId) ? deployer().objectId : principalId
var principalIsDeployer = principalObjectId == deployer().objectId
var deployerIsUser = !empty(deployerUpn)
var effectivePrincipalType = (principalType == 'Group'
  ? 'Group'
  : (principalType == 'ServicePrincipal' || (empty(principalType) && principalIsDeployer && !deployerIsUser) ? 'ServicePrincipal' : 'User'))
var sqlAdminPrincipalType = effectivePrincipalType == 'ServicePrincipal' ? 'Application' : (effectivePrincipalType == 'Group' ? 'Group' : 'User')
// "Object Id for User or Group, Client Id for Applications" (az sql server create --external-admin-sid)
var sqlAdminSid = effectivePrincipalType == 'ServicePrincipal' ? principalClientId : principalObjectId

// Regions where Flex Consumption accepts a maximum instance count below 40, as a preview (a
// Functions PM on https://github.com/Azure/azure-functions-host/issues/10523, January 2026).
// Everywhere else the lowest maximum is 40, and a lower one fails the deployment, so it is raised.
var flexLowMaximumInstanceRegions = ['westeurope', 'australiaeast', 'westus2']
var functionMaximumInstances = (contains(flexLowMaximumInstanceRegions, toLower(replace(location, ' ', '')))
  ? functionMaximumInstanceCount
  : max(functionMaximumInstanceCount, 40))

var resourceGroupName = '${abbrs.resourcesResourceGroups}${environmentName}'
var hostStorageName = '${abbrs.storageStorageAccounts}func${resourceToken}'
var dataLakeName = '${abbrs.storageStorageAccounts}${resourceToken}'
var sqlServerName = '${abbrs.sqlServers}${resourceToken}'

// The private endpoints of the isolated layout: each storage service the app uses, per account,
// and the SQL server. Names, not module outputs: a loop's list must be known when the deployment starts.
var privateEndpoints = [
  { name: 'host-blob', target: resourceId(subscription().subscriptionId, resourceGroupName, 'Microsoft.Storage/storageAccounts', hostStorageName), groupId: 'blob' }
  { name: 'host-table', target: resourceId(subscription().subscriptionId, resourceGroupName, 'Microsoft.Storage/storageAccounts', hostStorageName), groupId: 'table' }
  { name: 'lake-blob', target: resourceId(subscription().subscriptionId, resourceGroupName, 'Microsoft.Storage/storageAccounts', dataLakeName), groupId: 'blob' }
  { name: 'lake-queue', target: resourceId(subscription().subscriptionId, resourceGroupName, 'Microsoft.Storage/storageAccounts', dataLakeName), groupId: 'queue' }
  { name: 'sql', target: resourceId(subscription().subscriptionId, resourceGroupName, 'Microsoft.Sql/servers', sqlServerName), groupId: 'sqlServer' }
]

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
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

// Used by the platform alone, to write and read the deployment package (functionApp.bicep).
module deploymentIdentity 'modules/identity.bicep' = {
  name: 'deploymentIdentity'
  scope: resourceGroup
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}deploy-${resourceToken}'
    location: location
    tags: tags
  }
}

module network 'modules/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: resourceGroup
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
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

module hostStorage 'modules/hostStorage.bicep' = {
  name: 'hostStorage'
  scope: resourceGroup
  params: {
    name: hostStorageName
    location: location
    tags: tags
    vnetEnabled: vnetEnabled
  }
}

module dataLake 'modules/dataLake.bicep' = {
  name: 'dataLake'
  scope: resourceGroup
  params: {
    name: dataLakeName
    location: location
    tags: tags
    bronzeCoolAfterDays: bronzeCoolAfterDays
    vnetEnabled: vnetEnabled
    allowedIpRanges: dataLakeAllowedIpRanges
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
    serverName: sqlServerName
    databaseName: '${abbrs.sqlServersDatabases}pipeline'
    location: location
    tags: tags
    adminSid: sqlAdminSid
    adminLogin: sqlAdminName
    adminPrincipalType: sqlAdminPrincipalType
    maxVCores: sqlMaxVCores
    autoPauseDelayMinutes: sqlAutoPauseDelayMinutes
    serverExists: existingSqlServerName == sqlServerName
    vnetEnabled: vnetEnabled
  }
}

module privateEndpointDeployments 'modules/privateEndpoint.bicep' = [
  for pe in (vnetEnabled ? privateEndpoints : []): {
    name: 'privateEndpoint-${pe.name}'
    scope: resourceGroup
    dependsOn: [hostStorage, dataLake, sql]
    params: {
      name: '${abbrs.networkPrivateEndpoints}${pe.name}-${resourceToken}'
      location: location
      tags: tags
      subnetId: network.outputs.privateEndpointSubnetId
      targetResourceId: pe.target
      groupId: pe.groupId
      privateDnsZoneId: network.outputs.privateDnsZoneIds[pe.groupId]
    }
  }
]

module roles 'modules/roleAssignments.bicep' = {
  name: 'roleAssignments'
  scope: resourceGroup
  params: {
    functionIdentityPrincipalId: identity.outputs.principalId
    deploymentIdentityPrincipalId: deploymentIdentity.outputs.principalId
    deployerPrincipalId: principalObjectId
    deployerPrincipalType: effectivePrincipalType
    hostStorageAccountName: hostStorage.outputs.name
    hostContainers: hostStorage.outputs.hostContainers
    deploymentContainerName: hostStorage.outputs.deploymentContainerName
    dataLakeAccountName: dataLake.outputs.name
    readContainers: dataLake.outputs.readContainers
    readWriteContainers: dataLake.outputs.readWriteContainers
    queues: dataLake.outputs.queues
    appInsightsName: monitoring.outputs.appInsightsName
    keyVaultName: keyVault.outputs.name
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  scope: resourceGroup
  // the host reads its storage and App Insights with the identity from its first start, through
  // the private endpoints when there is a network
  dependsOn: [roles, privateEndpointDeployments]
  params: {
    planName: '${abbrs.webServerFarms}${resourceToken}'
    appName: '${abbrs.webSitesFunctions}${resourceToken}'
    location: location
    tags: tags
    identityName: identity.outputs.name
    deploymentIdentityName: deploymentIdentity.outputs.name
    hostStorageAccountName: hostStorage.outputs.name
    deploymentContainerName: hostStorage.outputs.deploymentContainerName
    dataLakeAccountName: dataLake.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    keyVaultName: keyVault.outputs.name
    usageApiTokenSecretName: keyVault.outputs.usageApiTokenSecretName
    sqlServerFqdn: sql.outputs.serverFqdn
    sqlDatabaseName: sql.outputs.databaseName
    usageApiBaseUrl: usageApiBaseUrl
    usageStartDate: usageStartDate
    monitorSchedule: monitorSchedule
    maximumInstanceCount: functionMaximumInstances
    instanceMemoryMB: functionInstanceMemoryMB
    appSubnetId: vnetEnabled ? network.outputs.appSubnetId : ''
  }
}

module eventGrid 'modules/eventGrid.bicep' = {
  name: 'eventGrid'
  scope: resourceGroup
  params: {
    systemTopicName: '${abbrs.eventGridSystemTopics}${resourceToken}'
    location: location
    tags: tags
    storageAccountName: dataLake.outputs.name
    landingContainerName: dataLake.outputs.landingContainerName
    landingEventsQueueName: dataLake.outputs.landingEventsQueueName
    deadLetterContainerName: dataLake.outputs.deadLetterContainerName
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
output AZURE_STORAGE_ACCOUNT_NAME string = dataLake.outputs.name
output AZURE_HOST_STORAGE_ACCOUNT_NAME string = hostStorage.outputs.name
output AZURE_VNET_ENABLED bool = vnetEnabled
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_USAGE_API_TOKEN_NAME string = keyVault.outputs.usageApiTokenSecretName
output AZURE_SQL_SERVER_NAME string = sql.outputs.serverName
output AZURE_SQL_SERVER_FQDN string = sql.outputs.serverFqdn
output AZURE_SQL_DATABASE_NAME string = sql.outputs.databaseName
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName

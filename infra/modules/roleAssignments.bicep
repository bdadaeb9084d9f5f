// Who may do what, in one place: the function app's identity gets the data-plane roles the host
// and the pipeline need, each on the narrowest resource that works, and the deployer may set the
// usage API token. No one gets Owner, Contributor or a key. Event Grid's own identity gets its two
// roles in eventGrid.bicep, next to the subscription that needs them.
param functionIdentityPrincipalId string
param deployerPrincipalId string
@allowed(['User', 'ServicePrincipal', 'Group'])
param deployerPrincipalType string
param storageAccountName string
param appInsightsName string
param keyVaultName string

// Built-in role definition ids, as documented in
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
// (the infra contract test holds the same table and checks every id used here against it).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

// The host keeps its locks, keys and the deployment package in blobs and creates its containers
// (Microsoft documents Blob Data Owner for identity-based AzureWebJobsStorage); the pipeline
// reads landing and writes bronze and quarantine in the same account.
resource functionBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionIdentityPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: functionIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Queue triggers read and delete messages and move failures to <queue>-poison; the pipeline
// sends transform requests and the monitor reads the poison queues' depth.
resource functionQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionIdentityPrincipalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The host writes its diagnostic events to Table storage (without it: event AZFD0003, and the
// portal's "Diagnose and solve problems" goes blind). The pipeline itself uses no tables.
resource functionTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionIdentityPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: functionIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Application Insights accepts only Entra-authenticated telemetry (local auth is off).
resource functionMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionIdentityPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: functionIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Resolves the USAGE_API_TOKEN Key Vault reference (read secrets, nothing else).
resource functionSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, functionIdentityPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: functionIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deployer sets and rotates the usage API token.
resource deployerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, deployerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

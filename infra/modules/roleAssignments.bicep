// Who may do what, in one place: the function app's identity gets the data-plane roles the host
// and the pipeline need, each on the narrowest resource that works (a container, a queue), the
// deployment identity may write the deployment package and nothing else, and the deployer may set
// the usage API token. No one gets Owner, Contributor or a key. Event Grid's own identity gets its
// two roles in eventGrid.bicep, next to the subscription that needs them.
param functionIdentityPrincipalId string
param deploymentIdentityPrincipalId string
param deployerPrincipalId string
@allowed(['User', 'ServicePrincipal', 'Group'])
param deployerPrincipalType string
param hostStorageAccountName string
param hostContainers array
param deploymentContainerName string
param dataLakeAccountName string
param readContainers array
param readWriteContainers array
param queues array
param appInsightsName string
param keyVaultName string

// Built-in role definition ids, as documented in
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
// (the infra contract test holds the same table and checks every id used here against it).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  storageQueueDataReader: '19e7f393-937e-4f77-808e-94535e297925'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

// ---- the host's storage account ------------------------------------------------------------

resource hostStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: hostStorageAccountName
}

resource hostBlobs 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' existing = {
  parent: hostStorage
  name: 'default'
}

resource hostContainerRefs 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' existing = [
  for name in hostContainers: {
    parent: hostBlobs
    name: name
  }
]

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' existing = {
  parent: hostBlobs
  name: deploymentContainerName
}

// The host's locks, timer state and keys live in blobs of these two containers. Microsoft
// documents Storage Blob Data Owner for identity-based host storage
// (https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity);
// it is given on the two containers, not the account, so the identity cannot touch the package.
resource functionHostContainers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in hostContainers: {
    name: guid(hostContainerRefs[i].id, functionIdentityPrincipalId, roles.storageBlobDataOwner)
    scope: hostContainerRefs[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
      principalId: functionIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The host writes its diagnostic events to tables it creates monthly (without it: event AZFD0003,
// and the portal's "Diagnose and solve problems" goes blind). The account holds no other tables.
resource functionHostTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, functionIdentityPrincipalId, roles.storageTableDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: functionIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Flex Consumption uploads the package a deployment sends, and reads it on every instance start,
// with the identity of functionAppConfig.deployment.storage: the deployment identity, on this
// container only.
resource deploymentPackageWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deploymentContainer.id, deploymentIdentityPrincipalId, roles.storageBlobDataContributor)
  scope: deploymentContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: deploymentIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- the data lake --------------------------------------------------------------------------

resource dataLake 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: dataLakeAccountName
}

resource lakeBlobs 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' existing = {
  parent: dataLake
  name: 'default'
}

resource lakeQueues 'Microsoft.Storage/storageAccounts/queueServices@2025-06-01' existing = {
  parent: dataLake
  name: 'default'
}

resource readContainerRefs 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' existing = [
  for name in readContainers: {
    parent: lakeBlobs
    name: name
  }
]

resource readWriteContainerRefs 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' existing = [
  for name in readWriteContainers: {
    parent: lakeBlobs
    name: name
  }
]

resource queueRefs 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-06-01' existing = [
  for name in queues: {
    parent: lakeQueues
    name: name
  }
]

resource poisonQueueRefs 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-06-01' existing = [
  for name in queues: {
    parent: lakeQueues
    name: '${name}-poison'
  }
]

// landing: uploads are read, never written.
resource functionReadContainers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in readContainers: {
    name: guid(readContainerRefs[i].id, functionIdentityPrincipalId, roles.storageBlobDataReader)
    scope: readContainerRefs[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
      principalId: functionIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// bronze, quarantine: written (a re-pulled date's blob is replaced) and read; reports: the
// transform writes the report, GET /api/report reads it.
resource functionReadWriteContainers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in readWriteContainers: {
    name: guid(readWriteContainerRefs[i].id, functionIdentityPrincipalId, roles.storageBlobDataContributor)
    scope: readWriteContainerRefs[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
      principalId: functionIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// A queue trigger receives and deletes messages, and also updates them: it extends a message's
// invisibility while a long invocation runs and releases it after a failure (Update Message, data
// action queues/messages/write). That action also authorises Put Message, so no role, built-in or
// custom, lets the app process landing-events without being able to add to it: Storage Queue Data
// Contributor, on each queue alone. (Reader plus Message Processor, which lack it, would make every
// such update fail with 403.) transform-requests the app also sends to.
// https://learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory#permissions-for-queue-service-operations
resource functionQueues 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in queues: {
    name: guid(queueRefs[i].id, functionIdentityPrincipalId, roles.storageQueueDataContributor)
    scope: queueRefs[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
      principalId: functionIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The host adds a message that failed its last attempt to <queue>-poison ...
resource functionPoisonSenders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in queues: {
    name: guid(poisonQueueRefs[i].id, functionIdentityPrincipalId, roles.storageQueueDataMessageSender)
    scope: poisonQueueRefs[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
      principalId: functionIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// ... and the monitor counts and peeks at them, without consuming them.
resource functionPoisonReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in queues: {
    name: guid(poisonQueueRefs[i].id, functionIdentityPrincipalId, roles.storageQueueDataReader)
    scope: poisonQueueRefs[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataReader)
      principalId: functionIdentityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// ---- monitoring and secrets -------------------------------------------------------------------

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
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

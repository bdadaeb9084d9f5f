// One storage account for the data lake (landing, bronze, quarantine), the pipeline's queues and
// the Functions host (its locks, keys and the deployment package). Keys are off: every caller
// uses Entra ID (the app's identity, Event Grid's identity, people with data roles).
param name string
param location string
param tags object
param bronzeCoolAfterDays int

// The names the code uses (functions/storage/blobStore.ts: CONTAINERS and QUEUES); the infra
// contract test checks these lists against it.
var dataContainers = ['landing', 'bronze', 'quarantine']
var deploymentContainer = 'deployment-package'
var deadLetterContainer = 'event-deadletter'
var queues = ['landing-events', 'transform-requests']
// The host moves a message that failed maxDequeueCount times to <queue>-poison. Created here so
// the monitor and operators find them from day one.
var poisonQueues = [for queue in queues: '${queue}-poison']

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: storage
  name: 'default'
  properties: {
    // a deleted or overwritten blob can be restored for 7 days
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = [
  for container in concat(dataContainers, [deploymentContainer, deadLetterContainer]): {
    parent: blobService
    name: container
    properties: { publicAccess: 'None' }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource queueResources 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-06-01' = [
  for queue in concat(queues, poisonQueues): {
    parent: queueService
    name: queue
  }
]

// Bronze is read again only for replays and rebuilds: cool storage costs about half as much per
// GB and a little more per read. The prefix is the container name.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-06-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'bronze-to-cool'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['bronze/'] }
            actions: { baseBlob: { tierToCool: { daysAfterModificationGreaterThan: bronzeCoolAfterDays } } }
          }
        }
      ]
    }
  }
}

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output landingContainerName string = dataContainers[0]
output deploymentContainerName string = deploymentContainer
output deadLetterContainerName string = deadLetterContainer
output landingEventsQueueName string = queues[0]

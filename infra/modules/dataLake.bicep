// The data lake: the pipeline's own storage account (the function app's DataStorage connection).
// Containers landing, bronze, quarantine and reports (the HTML report), Event Grid's dead-letter
// container, and the pipeline's queues with their -poison queues. The Functions host keeps its state and the
// deployment package in another account (hostStorage.bicep), so the app's identity holds roles on
// these containers and queues one by one (roleAssignments.bicep) and nothing on the host's.
// Keys are off: every caller uses Entra ID (the app's identity, Event Grid's, people with roles).
param name string
param location string
param tags object
param bronzeCoolAfterDays int
param vnetEnabled bool
@description('Comma-separated public IPv4 addresses or CIDR ranges let through the firewall when vnetEnabled (uploaders outside the network).')
param allowedIpRanges string

// The names the code uses (functions/storage/blobStore.ts: CONTAINERS with their CONTAINER_ACCESS,
// and QUEUES); the infra contract test checks these lists against it.
var readContainers = ['landing']
var readWriteContainers = ['bronze', 'quarantine', 'reports']
var deadLetterContainer = 'event-deadletter'
var queues = ['landing-events', 'transform-requests']
// The host moves a message that failed maxDequeueCount times to <queue>-poison. Created here so
// the monitor and operators find them from day one, and so the app needs no right to create queues.
var poisonQueues = [for queue in queues: '${queue}-poison']

// With the virtual network, the app reaches this account through private endpoints only, and the
// firewall turns the public endpoint away, with two exceptions: Event Grid, which cannot deliver
// through a private endpoint and delivers to the landing-events queue and the dead-letter
// container as a trusted service with its own identity (so publicNetworkAccess stays 'Enabled',
// with the firewall closed: 'Disabled' would shut out trusted services too), and the addresses in
// allowedIpRanges. https://learn.microsoft.com/azure/event-grid/handler-storage-queues,
// https://learn.microsoft.com/azure/event-grid/managed-service-identity#private-endpoints
var ipRules = [for ip in filter(map(split(allowedIpRanges, ','), r => trim(r)), r => !empty(r)): { value: ip, action: 'Allow' }]

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
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
      ipRules: vnetEnabled ? ipRules : []
      virtualNetworkRules: []
    }
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
  for container in concat(readContainers, readWriteContainers, [deadLetterContainer]): {
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
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output readContainers array = readContainers
output readWriteContainers array = readWriteContainers
output queues array = queues
output landingContainerName string = readContainers[0]
output deadLetterContainerName string = deadLetterContainer
output landingEventsQueueName string = queues[0]

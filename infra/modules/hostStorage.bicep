// The Functions host's own storage account (AzureWebJobsStorage): its locks and timer state
// (azure-webjobs-hosts), its keys (azure-webjobs-secrets), its diagnostic events (tables), and
// the deployment package Flex Consumption runs (deployment-package). No pipeline data lives here
// (that is the data lake, dataLake.bicep): the app's identity may use the host's two containers
// and tables, and only the deployment identity may write the package (roleAssignments.bicep).
param name string
param location string
param tags object
param vnetEnabled bool

// The containers the host uses (created here, so its identity needs no right to create any) and
// the deployment package's.
var hostContainers = ['azure-webjobs-hosts', 'azure-webjobs-secrets']
var deploymentContainer = 'deployment-package'

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
    // With the virtual network only its private endpoints reach it (the quickstart's layout).
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: { defaultAction: vnetEnabled ? 'Deny' : 'Allow', bypass: 'AzureServices' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = [
  for container in concat(hostContainers, [deploymentContainer]): {
    parent: blobService
    name: container
    properties: { publicAccess: 'None' }
  }
]

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output tableEndpoint string = storage.properties.primaryEndpoints.table
output hostContainers array = hostContainers
output deploymentContainerName string = deploymentContainer

// One private endpoint: a network interface in the private-endpoint subnet for one service
// (groupId: blob, queue, table of a storage account; sqlServer of an Azure SQL server), and the
// A record for it in that service's private DNS zone (network.bicep).
param name string
param location string
param tags object
param subnetId string
param targetResourceId string
@allowed(['blob', 'queue', 'table', 'sqlServer'])
param groupId string
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: { id: subnetId }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetResourceId
          groupIds: [groupId]
        }
      }
    ]
  }
}

resource dnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: { privateDnsZoneId: privateDnsZoneId }
      }
    ]
  }
}

output id string = endpoint.id

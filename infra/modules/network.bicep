// The virtual network of the isolated layout (vnetEnabled): one subnet the function app joins
// (Flex Consumption's virtual network integration needs a subnet delegated to
// Microsoft.App/environments), one for the private endpoints of storage and Azure SQL, and the
// private DNS zones that make the services' usual host names resolve to those endpoints inside
// the network. Like the Flex Consumption quickstart's vnetEnabled layout
// (https://github.com/Azure-Samples/functions-quickstart-typescript-azd, infra/app/vnet.bicep).
param name string
param location string
param tags object

var appSubnetName = 'app'
var privateEndpointSubnetName = 'private-endpoints'

// One zone per private endpoint group the templates use (privateEndpoint.bicep's groupId), named
// as Microsoft documents (https://learn.microsoft.com/azure/private-link/private-endpoint-dns).
var privateDnsZones = [
  { groupId: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { groupId: 'queue', zone: 'privatelink.queue.${environment().suffixes.storage}' }
  { groupId: 'table', zone: 'privatelink.table.${environment().suffixes.storage}' }
  { groupId: 'sqlServer', zone: 'privatelink${environment().suffixes.sqlServerHostname}' }
]

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: ['10.0.0.0/16'] }
    // The subnets are declared here, not as child resources: re-deploying a network whose
    // subnets are children would send it without them, and a subnet in use cannot be deleted.
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: '10.0.1.0/24'
          delegations: [{ name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        name: privateEndpointSubnetName
        properties: {
          addressPrefix: '10.0.2.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for z in privateDnsZones: {
    name: z.zone
    location: 'global'
    tags: tags
  }
]

// Without the link the network's resolver never sees the zone, and names resolve to public addresses.
resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (z, i) in privateDnsZones: {
    parent: zones[i]
    name: vnet.name
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: { id: vnet.id }
    }
  }
]

output appSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, appSubnetName)
output privateEndpointSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, privateEndpointSubnetName)
// groupId → zone resource id, for privateEndpoint.bicep
output privateDnsZoneIds object = toObject(privateDnsZones, z => z.groupId, z => resourceId('Microsoft.Network/privateDnsZones', z.zone))

// The function app's one identity. User-assigned, so it exists before the app does: its role
// assignments and its database user are in place by the app's first start, and survive the app
// being re-created.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId

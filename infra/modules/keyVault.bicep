// Key Vault for the one secret the pipeline has: the usage API token. Access is by Azure RBAC
// (no access policies). The secret itself is not in any template: it is set out of band
// (`az keyvault secret set`, or the azd post-provision hook from USAGE_API_TOKEN), so it never
// passes through a deployment's parameters or history, and re-deploying never blanks it.
param name string
param location string
param tags object
param purgeProtection bool

var usageApiTokenSecretName = 'usage-api-token'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    // the property accepts only true: leave it out to keep purge protection off
    enablePurgeProtection: purgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output usageApiTokenSecretName string = usageApiTokenSecretName

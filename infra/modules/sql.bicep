// Azure SQL: a logical server that accepts Entra ID only (no SQL logins, no password anywhere),
// with the deployer as its Entra admin, and one serverless General Purpose database that pauses
// when idle. The function app's identity gets its database user from the post-provision step
// (infra/scripts/setup-database.sh), not from here: ARM cannot create database users.
param serverName string
param databaseName string
param location string
param tags object
param adminObjectId string
param adminLogin string
@allowed(['User', 'Group', 'Application'])
param adminPrincipalType string
param maxVCores int
param autoPauseDelayMinutes int

var entraAdmin = {
  administratorType: 'ActiveDirectory'
  principalType: adminPrincipalType
  login: adminLogin
  sid: adminObjectId
  tenantId: tenant().tenantId
  azureADOnlyAuthentication: true
}

resource server 'Microsoft.Sql/servers@2025-01-01' = {
  name: serverName
  location: location
  tags: tags
  // Lets the server look principals up in Entra ID for `CREATE USER … FROM EXTERNAL PROVIDER` when a
  // service principal (a CI pipeline) runs the post-provision step; that also needs the Directory
  // Readers role granted to this identity by an Entra admin (README, "Deploy to Azure").
  identity: { type: 'SystemAssigned' }
  properties: {
    version: '12.0'
    minimalTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    // An Entra-only server must have its Entra admin when it is created; the two child resources
    // below state the same admin and Entra-only authentication as resources of their own.
    administrators: entraAdmin
  }
}

resource admin 'Microsoft.Sql/servers/administrators@2025-01-01' = {
  parent: server
  name: 'ActiveDirectory'
  properties: {
    administratorType: 'ActiveDirectory'
    login: adminLogin
    sid: adminObjectId
    tenantId: tenant().tenantId
  }
}

resource entraOnly 'Microsoft.Sql/servers/azureADOnlyAuthentications@2025-01-01' = {
  parent: server
  name: 'Default'
  dependsOn: [admin]
  properties: {
    azureADOnlyAuthentication: true
  }
}

// "Allow Azure services and resources to access this server": the special 0.0.0.0 rule, which
// admits Azure's own addresses (the Flex Consumption app has no fixed outbound address without a
// virtual network). Never an open range. The post-provision step adds the deployer's address for
// the length of its run only.
resource allowAzureServices 'Microsoft.Sql/servers/firewallRules@2025-01-01' = {
  parent: server
  name: 'AllowAllWindowsAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource database 'Microsoft.Sql/servers/databases@2025-01-01' = {
  parent: server
  name: databaseName
  location: location
  tags: tags
  // serverless: billed per vCore-second while running, storage only while paused
  sku: { name: 'GP_S_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: maxVCores }
  properties: {
    autoPauseDelay: autoPauseDelayMinutes
    minCapacity: json('0.5')
    zoneRedundant: false
    requestedBackupStorageRedundancy: 'Local'
    collation: 'Latin1_General_100_BIN2'
  }
}

output serverName string = server.name
output serverFqdn string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name

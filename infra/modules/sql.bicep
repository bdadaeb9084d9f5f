// Azure SQL: a logical server that accepts Entra ID only (no SQL logins, no password anywhere),
// with the deployer as its Entra admin, and one serverless General Purpose database that pauses
// when idle. The function app's identity gets its database user from the post-provision step
// (infra/scripts/setup-database.sh), not from here: ARM cannot create database users.
param serverName string
param databaseName string
param location string
param tags object
@description('For an application admin, its client id: Azure SQL identifies applications by it (az sql server create --external-admin-sid: "Object Id for User or Group, Client Id for Applications").')
param adminSid string
param adminLogin string
@allowed(['User', 'Group', 'Application'])
param adminPrincipalType string
param maxVCores int
param autoPauseDelayMinutes int
@description('True when this server already exists (an earlier provisioning created it): its create-only properties are then left out.')
param serverExists bool
param vnetEnabled bool

// Sent on create only. The API takes `administrators` when the server is created and rejects it,
// or its azureADOnlyAuthentication, on later updates (x-ms-mutability read/create; "To update the
// azureADOnlyAuthentication property, individual API must be used": the template reference of
// Microsoft.Sql/servers; Azure/bicep#6858, Azure/bicep-types-az#2320). An Entra-only server still
// needs both at creation, as it has no SQL admin login. Afterwards the two child resources below
// hold the same settings, and they accept updates: a second `azd provision` sends the same values.
var createOnlyProperties = (serverExists
  ? {}
  : {
      administrators: {
        administratorType: 'ActiveDirectory'
        principalType: adminPrincipalType
        login: adminLogin
        sid: adminSid
        tenantId: tenant().tenantId
        azureADOnlyAuthentication: true
      }
    })

resource server 'Microsoft.Sql/servers@2025-01-01' = {
  name: serverName
  location: location
  tags: tags
  // Lets the server look principals up in Entra ID for `CREATE USER … FROM EXTERNAL PROVIDER` when a
  // service principal (a CI pipeline) runs the post-provision step; that also needs the Directory
  // Readers role granted to this identity by an Entra admin (README, "Deploy to Azure").
  identity: { type: 'SystemAssigned' }
  properties: union(
    {
      version: '12.0'
      minimalTlsVersion: '1.2'
      // With the virtual network only its private endpoint reaches the server; the setup hook turns
      // public access on for its own run and off again.
      publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    },
    createOnlyProperties
  )
}

resource admin 'Microsoft.Sql/servers/administrators@2025-01-01' = {
  parent: server
  name: 'ActiveDirectory'
  properties: {
    administratorType: 'ActiveDirectory'
    login: adminLogin
    sid: adminSid
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

// Without the virtual network: "Allow Azure services and resources to access this server", the
// special 0.0.0.0 rule (a Flex Consumption app outside a network has no fixed outbound address).
// It admits any Azure tenant's addresses, which the Entra-only login then has to stop: that is the
// public layout's price, and why vnetEnabled is the default. With the network there is no rule at
// all (with public access off the server refuses to hold firewall rules).
resource allowAzureServices 'Microsoft.Sql/servers/firewallRules@2025-01-01' = if (!vnetEnabled) {
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

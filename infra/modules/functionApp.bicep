// The Flex Consumption plan and the function app: Node 22 on Linux, running as the user-assigned
// identity for everything it does (host storage, the data lake, App Insights, Key Vault, SQL).
// A second identity, used by the platform only, writes and reads the deployment package: the app's
// own identity cannot rewrite its code. No connection string with a key, no password: the
// settings below are addresses and names.
param planName string
param appName string
param location string
param tags object
param identityName string
param deploymentIdentityName string
param hostStorageAccountName string
param deploymentContainerName string
param dataLakeAccountName string
param appInsightsName string
param keyVaultName string
param usageApiTokenSecretName string
param sqlServerFqdn string
param sqlDatabaseName string
param usageApiBaseUrl string
param usageStartDate string
param monitorSchedule string
param maximumInstanceCount int
param instanceMemoryMB int
@description('Subnet (delegated to Microsoft.App/environments) the app joins; empty: no virtual network.')
param appSubnetId string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource deploymentIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: deploymentIdentityName
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: hostStorageAccountName
}

resource dataLake 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: dataLakeAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Every setting the code reads (functions/core/settings.ts) except the local-only ones
// (LOCAL_ONLY_SETTINGS there), plus the host's identity-based storage connection. The infra
// contract test (tests/infra.test.ts) checks this list against the code; the README explains each.
// Flex Consumption sets the runtime itself: no FUNCTIONS_WORKER_RUNTIME, WEBSITE_NODE_DEFAULT_VERSION
// or WEBSITE_RUN_FROM_PACKAGE here.
var appSettings = {
  // the host's own storage (locks, timer state, keys, diagnostic events), with the identity; no
  // queue service: no blob trigger or Durable Functions here (the queue triggers use DataStorage)
  AzureWebJobsStorage__accountName: hostStorage.name
  AzureWebJobsStorage__blobServiceUri: hostStorage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__tableServiceUri: hostStorage.properties.primaryEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  // the data lake: the code's blobs and queues, and the queue triggers' DataStorage connection
  DataStorage__blobServiceUri: dataLake.properties.primaryEndpoints.blob
  DataStorage__queueServiceUri: dataLake.properties.primaryEndpoints.queue
  DataStorage__credential: 'managedidentity'
  DataStorage__clientId: identity.properties.clientId
  // the identity DefaultAzureCredential uses for SQL
  AZURE_CLIENT_ID: identity.properties.clientId

  // telemetry: the host's logs and the pipeline's metrics and events, Entra-authenticated
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identity.properties.clientId}'

  // the warehouse
  WAREHOUSE_ENGINE: 'mssql'
  SQL_SERVER: sqlServerFqdn
  SQL_DATABASE: sqlDatabaseName
  SQL_PORT: '1433'
  SQL_AUTH: 'default'
  SQL_ENCRYPT: 'true'
  SQL_TRUST_SERVER_CERTIFICATE: 'false'
  SQL_REQUEST_TIMEOUT_MS: '120000'

  // the product usage API; the token is resolved from Key Vault by the platform
  USAGE_API_BASE_URL: usageApiBaseUrl
  USAGE_API_TOKEN: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${usageApiTokenSecretName})'
  USAGE_API_PAGE_SIZE: '5000'
  USAGE_API_TIMEOUT_MS: '30000'
  USAGE_API_MAX_ATTEMPTS: '6'
  USAGE_API_RETRY_BASE_MS: '500'
  USAGE_API_RETRY_MAX_MS: '60000'
  USAGE_FETCH_CONCURRENCY: '4'
  USAGE_START_DATE: usageStartDate
  USAGE_MAX_DATES_PER_RUN: '31'

  // schedules (NCRONTAB, UTC: Linux plans have no time zone setting)
  USAGE_INGEST_SCHEDULE: '0 0 2 * * *'
  MONITOR_SCHEDULE: monitorSchedule

  // limits on input (README, "Limits on input")
  INGEST_EARLIEST_DATE: '2000-01-01'
  INGEST_MAX_DAYS_AHEAD: '1'
  INGEST_MAX_COLUMNS: '1000'
  INGEST_MAX_RECORD_CHARS: '1048576'
  INGEST_MAX_DRIFT_FINDINGS: '50'
  // empty: a worker thread per core splits large files' rows
  INGEST_WORKER_THREADS: ''

  // business rules and the transform
  CHURN_INACTIVE_DAYS: '7'
  CHURN_CONTACT_WINDOW_DAYS: '30'
  // at least host.json's functionTimeout, so a live transform never loses its lease
  TRANSFORM_LEASE_SECONDS: '1800'

  // ---- CRM warehouse ----
  // support SLA targets in hours per ticket priority (gold.fact_tickets)
  CRM_SLA_FIRST_RESPONSE_HOURS: 'urgent=1,high=4,medium=8,low=24'
  CRM_SLA_RESOLUTION_HOURS: 'urgent=24,high=72,medium=120,low=240'

  // ---- customer analytics ----
  // empty: the data's last transaction date
  ANALYTICS_AS_OF_DATE: ''
  CUSTOMER_LOST_DAYS: '365'
  CUSTOMER_NEW_DAYS: '90'
  CUSTOMER_ACTIVE_DAYS: '90'
  CUSTOMER_HIGH_VALUE_TOP_PCT: '20'
  CUSTOMER_AT_RISK_SPEND_RATIO: '0.5'
  CUSTOMER_HIGH_CHURN_SCORE: '70'
  CUSTOMER_CHURN_LABEL_DAYS: '90'
  CUSTOMER_CHURN_TRAINING_SNAPSHOTS: '6'
  CUSTOMER_RETENTION_MIN_LTV: '200'
  CUSTOMER_CAMPAIGN_HIGH_VALUE: '500'
  CUSTOMER_CAMPAIGN_MEDIUM_VALUE: '100'
  CUSTOMER_CV_STEADY: '0.5'
  CUSTOMER_CV_VARIABLE: '1'
  CUSTOMER_MIN_OBSERVED_DAYS: '90'
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: appName
  location: location
  // azd finds the app to deploy to by this tag (the service name in azure.yaml)
  tags: union(tags, { 'azd-service-name': 'pipeline' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {}, '${deploymentIdentity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // with the virtual network, all outbound traffic leaves through this subnet
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    // Key Vault references resolve with the user-assigned identity, not a system-assigned one
    keyVaultReferenceIdentity: identity.id
    // Flex Consumption rejects the classic runtime properties (linuxFxVersion, alwaysOn, ftpsState, …):
    // the runtime and scale live in functionAppConfig below
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          // the platform writes and reads the package with this identity; the app's runs nothing with it
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: deploymentIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'node', version: '22' }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: appSettings
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName

// Parameters for a plain `az deployment sub create` (teams without azd). azd reads
// main.parameters.json instead; this file is deliberately not named main.bicepparam, which azd
// would prefer over it. Values come from environment variables, so nothing here is secret:
//
//   export AZURE_ENV_NAME=pipeline-dev AZURE_LOCATION=westeurope ALERT_EMAIL=data-team@example.com
//   az deployment sub create --name "$AZURE_ENV_NAME" --location "$AZURE_LOCATION" \
//     --template-file infra/main.bicep --parameters infra/main.az.bicepparam
using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'pipeline-dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'westeurope')
// empty: the template uses the deployer (whoever runs `az deployment`)
param principalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
// empty: inferred from the deployer (a person or a service principal)
param principalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', '')
// a service principal's application (client) id: `az account show --query user.name -o tsv` when signed in as it
param principalClientId = readEnvironmentVariable('AZURE_PRINCIPAL_CLIENT_ID', '')
param sqlAdminLogin = readEnvironmentVariable('SQL_ADMIN_LOGIN', '')
param vnetEnabled = bool(readEnvironmentVariable('VNET_ENABLED', 'true'))
param dataLakeAllowedIpRanges = readEnvironmentVariable('DATA_LAKE_ALLOWED_IP_RANGES', '')
// the outputs of the first deployment, exported as the README shows, tell a later one the server exists
param existingSqlServerName = readEnvironmentVariable('AZURE_SQL_SERVER_NAME', '')
param alertEmail = readEnvironmentVariable('ALERT_EMAIL', '')
param usageApiBaseUrl = readEnvironmentVariable('USAGE_API_BASE_URL', '')
param usageStartDate = readEnvironmentVariable('USAGE_START_DATE', '')

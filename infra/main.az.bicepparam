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
param principalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', 'User')
param sqlAdminLogin = readEnvironmentVariable('SQL_ADMIN_LOGIN', '')
param alertEmail = readEnvironmentVariable('ALERT_EMAIL', '')
param usageApiBaseUrl = readEnvironmentVariable('USAGE_API_BASE_URL', '')
param usageStartDate = readEnvironmentVariable('USAGE_START_DATE', '')

#!/bin/sh
# Sets up the Azure SQL database as the deployer (its Entra admin): bootstraps the warehouse schema
# and creates the function app identity's database user with least privileges
# (`npm run db:setup`, functions/local/setupDatabase.ts). Idempotent.
#
# Azure SQL admits only Azure services through its firewall, so this opens it to this machine's
# public address for the length of the run, and closes it again on the way out, whatever happens.
#
# azd runs it after provisioning and before each deploy, with the deployment's outputs in the
# environment. Without azd, export the same names from `az deployment sub show … --query
# properties.outputs` first (README, "Deploy to Azure").
set -eu

: "${AZURE_RESOURCE_GROUP:?not set: run from azd, or export the deployment outputs}"
: "${AZURE_SQL_SERVER_NAME:?not set: run from azd, or export the deployment outputs}"
: "${AZURE_SQL_SERVER_FQDN:?not set: run from azd, or export the deployment outputs}"
: "${AZURE_SQL_DATABASE_NAME:?not set: run from azd, or export the deployment outputs}"
: "${AZURE_FUNCTION_IDENTITY_NAME:?not set: run from azd, or export the deployment outputs}"

# The address Azure SQL sees this machine connect from (override when behind a proxy that differs).
client_ip="${SQL_CLIENT_IP:-$(curl -fsS --max-time 10 https://api.ipify.org)}"
case "$client_ip" in
  *[!0-9.]* | "") echo "setup-database: could not tell this machine's public IPv4 address (got '$client_ip'); set SQL_CLIENT_IP" >&2; exit 1 ;;
esac
rule="db-setup-$(hostname | tr -cd 'A-Za-z0-9-' | cut -c1-40)"

close_firewall() {
  az sql server firewall-rule delete --resource-group "$AZURE_RESOURCE_GROUP" --server "$AZURE_SQL_SERVER_NAME" \
    --name "$rule" --output none || echo "setup-database: could not remove firewall rule $rule; remove it by hand" >&2
}

echo "setup-database: opening the SQL firewall to $client_ip (rule $rule) for this run"
az sql server firewall-rule create --resource-group "$AZURE_RESOURCE_GROUP" --server "$AZURE_SQL_SERVER_NAME" \
  --name "$rule" --start-ip-address "$client_ip" --end-ip-address "$client_ip" --output none
trap close_firewall EXIT
trap 'exit 130' INT TERM

npm run --silent db:setup -- \
  --server "$AZURE_SQL_SERVER_FQDN" \
  --database "$AZURE_SQL_DATABASE_NAME" \
  --identity "$AZURE_FUNCTION_IDENTITY_NAME"

#!/bin/sh
# Sets up the Azure SQL database as the deployer (its Entra admin): bootstraps the warehouse schema
# and creates the function app identity's database user with least privileges
# (`npm run db:setup`, functions/local/setupDatabase.ts). Idempotent.
#
# Azure SQL admits no one from outside: with the virtual network (vnetEnabled, the default) its
# public access is off and only the private endpoint reaches it; without, only Azure services. So
# for the length of the run this turns public access on if it was off, opens the firewall to this
# machine's public address alone, and on the way out, whatever happens, removes the rule and turns
# public access off again. A new rule takes up to five minutes to take effect; db:setup waits.
#
# Running inside the virtual network (a VM or a CI agent on a peered network, resolving the
# privatelink DNS zone)? Set SQL_SETUP_PRIVATE_NETWORK=true: the firewall is left alone.
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

setup() {
  npm run --silent db:setup -- \
    --server "$AZURE_SQL_SERVER_FQDN" \
    --database "$AZURE_SQL_DATABASE_NAME" \
    --identity "$AZURE_FUNCTION_IDENTITY_NAME"
}

if [ "${SQL_SETUP_PRIVATE_NETWORK:-false}" = true ]; then
  echo "setup-database: connecting through the private endpoint (SQL_SETUP_PRIVATE_NETWORK=true); the firewall is left alone"
  setup
  exit 0
fi

# The address Azure SQL sees this machine connect from (override when behind a proxy that differs).
client_ip="${SQL_CLIENT_IP:-$(curl -fsS --max-time 10 https://api.ipify.org)}"
case "$client_ip" in
  *[!0-9.]* | "") echo "setup-database: could not tell this machine's public IPv4 address (got '$client_ip'); set SQL_CLIENT_IP" >&2; exit 1 ;;
esac
rule="db-setup-$(hostname | tr -cd 'A-Za-z0-9-' | cut -c1-40)"
reopened=false
rule_added=false

restore() {
  if [ "$rule_added" = true ]; then
    az sql server firewall-rule delete --resource-group "$AZURE_RESOURCE_GROUP" --server "$AZURE_SQL_SERVER_NAME" --name "$rule" --output none ||
      echo "setup-database: could not remove firewall rule $rule; remove it by hand" >&2
  fi
  if [ "$reopened" = true ]; then
    az sql server update --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_SQL_SERVER_NAME" --enable-public-network false --output none ||
      echo "setup-database: could not turn public network access off again on $AZURE_SQL_SERVER_NAME; run: az sql server update -g $AZURE_RESOURCE_GROUP -n $AZURE_SQL_SERVER_NAME --enable-public-network false (the next azd provision also does)" >&2
  fi
}
trap restore EXIT
trap 'exit 130' INT TERM

# With public access off, Azure SQL refuses to create firewall rules at all: turn it on first.
access="$(az sql server show --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_SQL_SERVER_NAME" --query publicNetworkAccess --output tsv)"
if [ "$access" = Disabled ]; then
  echo "setup-database: turning public network access on for this run (it is off: the virtual network layout)"
  reopened=true
  az sql server update --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_SQL_SERVER_NAME" --enable-public-network true --output none
fi

echo "setup-database: opening the SQL firewall to $client_ip (rule $rule) for this run"
az sql server firewall-rule create --resource-group "$AZURE_RESOURCE_GROUP" --server "$AZURE_SQL_SERVER_NAME" \
  --name "$rule" --start-ip-address "$client_ip" --end-ip-address "$client_ip" --output none
rule_added=true

setup

// A shared workbook on the Application Insights resource: runs, rows landed and quarantined per
// source, stage durations, freshness, data tests, drift and poison queues. Its queries are in
// infra/monitoring/pipeline.workbook.json (open it in the portal's workbook editor to change it).
param location string
param tags object
param appInsightsName string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // a workbook's name must be a GUID; this one is stable per App Insights resource
  name: guid(appInsights.id, 'pipeline-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Company activity pipeline'
    category: 'workbook'
    version: 'Notebook/1.0'
    sourceId: appInsights.id
    serializedData: loadTextContent('../monitoring/pipeline.workbook.json')
  }
}

output name string = workbook.name

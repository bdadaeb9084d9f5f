// Alert rules, all to one action group (e-mail). Each rule's description says what it means and
// where to start; the README ("Alerts") has the longer version. The log alerts query the
// Application Insights resource, so they use its tables: `requests` (one row per function
// invocation) and the pipeline's own `customEvents` and `customMetrics`, whose names are the
// contract in functions/core/telemetry.ts (the infra contract test checks every name used here).
param namePrefix string
param location string
param tags object
param alertEmail string
param appInsightsName string
param systemTopicName string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-pipeline-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'pipeline'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'data-team'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

var logAlerts = [
  {
    name: 'function-failures'
    displayName: 'Pipeline: function invocations failing'
    description: 'A function invocation threw (after the host\'s own retries for queue messages). Open Application Insights > Failures for the exception; for queue functions the message goes to <queue>-poison after 5 attempts (see the poison alert).'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: '''
requests
| where success == false
| summarize failures = count() by function = operation_Name
'''
    timeAggregation: 'Total'
    measure: 'failures'
    dimension: 'function'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'run-failed'
    displayName: 'Pipeline: a run failed'
    description: 'A pipeline run ended with status failed: an ingest, a transform (including an error-severity data test, which blocks publication), or an operation. `GET ops/runs?status=failed` names the run, its step and error; after fixing the cause, re-run with `POST ops/rerun` or `POST ops/replay`.'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: '''
customEvents
| where name == "pipeline.run_finished"
| where tostring(customDimensions.status) == "failed"
| summarize failed = count() by runKind = tostring(customDimensions.kind)
'''
    timeAggregation: 'Total'
    measure: 'failed'
    dimension: 'runKind'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'source-stale'
    displayName: 'Pipeline: a source is past its freshness limit'
    description: 'The monitor\'s latest check found a source whose newest data is older than its error threshold (declared in its source contract). Check whether files still arrive in landing (CRM) or the usage pull runs and succeeds (usage); `GET ops/freshness` shows every source\'s lag. The alert resolves at the first check that passes.'
    severity: 2
    evaluationFrequency: 'PT1H'
    // the monitor runs every few hours: judge each source by its latest check of the past day
    windowSize: 'P1D'
    query: '''
customMetrics
| where name == "pipeline.freshness.lag_hours"
| extend source = tostring(customDimensions.source), status = tostring(customDimensions.status)
| summarize arg_max(timestamp, status) by source
| where status == "error"
| summarize stale = count() by source
'''
    timeAggregation: 'Total'
    measure: 'stale'
    dimension: 'source'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'poison-messages'
    displayName: 'Pipeline: messages waiting in a poison queue'
    description: 'A queue message failed on every attempt and waits in landing-events-poison or transform-requests-poison. The message names the file or the dates; fix the cause, then replay the file (`POST ops/replay`) or re-run the dates (`POST ops/rerun`) and delete the poison message. The alert resolves at the first check that finds the queue empty.'
    severity: 2
    evaluationFrequency: 'PT1H'
    // a gauge measured by the monitor: each queue's latest measurement of the past day decides
    windowSize: 'P1D'
    query: '''
customMetrics
| where name == "pipeline.queue.poison_messages"
| extend queue = tostring(customDimensions.queue)
| summarize arg_max(timestamp, value) by queue
| project queue, waiting = value
'''
    timeAggregation: 'Maximum'
    measure: 'waiting'
    dimension: 'queue'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    // The monitor runs every 6 hours (monitorSchedule): a day without it means the app is not
    // running at all (not deployed, stopped, failing to start), which no other alert can see.
    name: 'pipeline-silent'
    displayName: 'Pipeline: the monitor has not run for a day'
    description: 'No freshness check finished in 24 hours, so the function app is stopped, not deployed, or failing at start-up (or MONITOR_SCHEDULE was changed to less than daily). Check the app in the portal (Overview, Log stream) and the function failures alert.'
    severity: 1
    evaluationFrequency: 'PT1H'
    windowSize: 'P1D'
    query: '''
customEvents
| where name == "pipeline.run_finished"
| where tostring(customDimensions.kind) == "freshness_check"
'''
    timeAggregation: 'Count'
    measure: ''
    dimension: ''
    operator: 'LessThan'
    threshold: 1
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in logAlerts: {
    name: 'alert-${alert.name}-${namePrefix}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [appInsights.id]
      evaluationFrequency: alert.evaluationFrequency
      windowSize: alert.windowSize
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: alert.timeAggregation
            metricMeasureColumn: empty(alert.measure) ? null : alert.measure
            dimensions: empty(alert.dimension) ? [] : [{ name: alert.dimension, operator: 'Include', values: ['*'] }]
            operator: alert.operator
            threshold: alert.threshold
            failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
          }
        ]
      }
      autoMitigate: true
      actions: { actionGroups: [actionGroup.id] }
    }
  }
]

// Event Grid could not deliver an upload's event to the queue (for example its role is missing):
// the event went to the event-deadletter container (or, if even that failed, was dropped).
var deliveryMetrics = [
  {
    name: 'events-dead-lettered'
    metricName: 'DeadLetteredCount'
    description: 'Event Grid dead-lettered BlobCreated events for landing: those uploads were not ingested. Each event\'s JSON is in the event-deadletter container. Fix the cause (usually the system topic\'s Storage Queue Data Message Sender role), then put each event back on the landing-events queue (README, "Alerts") or upload the file again.'
  }
  {
    name: 'events-dropped'
    metricName: 'DroppedEventCount'
    description: 'Event Grid dropped BlobCreated events for landing, not even dead-lettered (the dead-letter container was unwritable): those uploads were not ingested and left no event behind. List the landing blobs of the hours concerned, compare with `GET ops/runs?kind=upload_ingest`, and upload the missing files again.'
  }
]

resource deliveryAlerts 'Microsoft.Insights/metricAlerts@2018-03-01' = [
  for alert in deliveryMetrics: {
    name: 'alert-${alert.name}-${namePrefix}'
    location: 'global'
    tags: tags
    properties: {
      description: alert.description
      severity: 1
      enabled: true
      scopes: [systemTopic.id]
      evaluationFrequency: 'PT15M'
      windowSize: 'PT1H'
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            name: alert.metricName
            criterionType: 'StaticThresholdCriterion'
            metricNamespace: 'Microsoft.EventGrid/systemTopics'
            metricName: alert.metricName
            operator: 'GreaterThan'
            threshold: 0
            timeAggregation: 'Total'
          }
        ]
      }
      autoMitigate: true
      actions: [{ actionGroupId: actionGroup.id }]
    }
  }
]

output actionGroupName string = actionGroup.name

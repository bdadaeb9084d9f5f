/**
 * The Functions app entry point (package.json `main`, compiled to dist/functions/app.js): importing
 * the trigger files registers every function with the host. Business logic lives elsewhere.
 */
import './triggers/uploadIngest.js';
import './triggers/usageIngest.js';
import './triggers/transform.js';
import './triggers/monitor.js';
import './triggers/ops.js';
import './triggers/report.js';

/**
 * onnxruntime-node, with its telemetry off: import `ort` from here, not from the package. Since 1.29
 * its Linux build starts a telemetry system with a process's first session. That writes
 * `mat-debug-<pid>.log` and `.ses` into the temp folder, one pair per process (108 of them after a
 * day of test runs here), and the library carries an uploader to Microsoft's event collector
 * (`https://mobile.events.data.microsoft.com`) for when a CA bundle is readable. A tool that scans
 * people's videos sends nothing anywhere, so telemetry is off unless the user set
 * `ORT_DISABLE_TELEMETRY` themselves. The variable is read when the first session is made (checked:
 * set after the package loaded and before a session, no files appear), and is process-wide, so the
 * inference worker threads inherit it.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export * as ort from 'onnxruntime-node';

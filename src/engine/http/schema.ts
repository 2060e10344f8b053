import type { TableSchema } from '../schema.js';

/**
 * The `http_events` table: Pixie's columns with the same names, types and semantic types, then
 * Wisp's process columns. One row per request/response pair.
 */
export const HTTP_EVENTS_SCHEMA: TableSchema = {
  name: 'http_events',
  doc: 'HTTP/1.x request-response pairs captured with eBPF, one row per pair',
  fields: [
    { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE', doc: 'Wall-clock time of the last response byte (ns since the epoch)' },
    { name: 'upid', type: 'UINT128', semantic: 'ST_UPID', doc: 'Unique process id of the traced process (asid, pid, start time)' },
    { name: 'remote_addr', type: 'STRING', semantic: 'ST_IP_ADDRESS', doc: 'IP address of the remote endpoint' },
    { name: 'remote_port', type: 'INT64', semantic: 'ST_PORT', doc: 'Port of the remote endpoint' },
    { name: 'local_addr', type: 'STRING', semantic: 'ST_IP_ADDRESS', doc: 'IP address of the local endpoint' },
    { name: 'local_port', type: 'INT64', semantic: 'ST_PORT', doc: 'Port of the local endpoint' },
    { name: 'trace_role', type: 'INT64', semantic: 'ST_NONE', doc: 'Role of the traced process on the connection: 1 client, 2 server' },
    { name: 'encrypted', type: 'BOOLEAN', semantic: 'ST_NONE', doc: 'Whether the traffic was TLS-encrypted on the wire' },
    { name: 'major_version', type: 'INT64', semantic: 'ST_NONE', doc: 'HTTP major version (from the response status line)' },
    { name: 'minor_version', type: 'INT64', semantic: 'ST_NONE', doc: 'HTTP minor version (from the response status line)' },
    // Pixie's HTTPContentType enum (stirling's http_table.h). Wisp only tells JSON from the rest;
    // gRPC needs HTTP/2, which it does not capture.
    { name: 'content_type', type: 'INT64', semantic: 'ST_NONE', doc: 'Type of the response payload: 0 unknown, 1 JSON, 2 gRPC' },
    { name: 'req_headers', type: 'STRING', semantic: 'ST_NONE', doc: 'Request headers as a JSON object (repeated headers joined with ", ")' },
    { name: 'req_method', type: 'STRING', semantic: 'ST_HTTP_REQ_METHOD', doc: 'HTTP request method (GET, POST, PATCH, ...)' },
    { name: 'req_path', type: 'STRING', semantic: 'ST_NONE', doc: 'Request target as sent (path and query)' },
    { name: 'req_body', type: 'STRING', semantic: 'ST_NONE', doc: 'Request body prefix (de-chunked, UTF-8)' },
    { name: 'req_body_size', type: 'INT64', semantic: 'ST_BYTES', doc: 'Request body size before any truncation' },
    { name: 'resp_headers', type: 'STRING', semantic: 'ST_NONE', doc: 'Response headers as a JSON object (repeated headers joined with ", ")' },
    { name: 'resp_status', type: 'INT64', semantic: 'ST_HTTP_RESP_STATUS', doc: 'HTTP response status code' },
    { name: 'resp_message', type: 'STRING', semantic: 'ST_HTTP_RESP_MESSAGE', doc: 'HTTP response reason phrase (OK, Not Found, ...)' },
    { name: 'resp_body', type: 'STRING', semantic: 'ST_NONE', doc: 'Response body prefix (de-chunked, UTF-8)' },
    { name: 'resp_body_size', type: 'INT64', semantic: 'ST_BYTES', doc: 'Response body size before any truncation' },
    { name: 'latency', type: 'INT64', semantic: 'ST_DURATION_NS', doc: 'First request byte to last response byte, as seen by the traced process (ns)' },
    { name: 'pid', type: 'INT64', semantic: 'ST_NONE', doc: 'Process id of the traced process' },
    { name: 'comm', type: 'STRING', semantic: 'ST_NONE', doc: 'Command name of the traced process (/proc/<pid>/comm)' },
    { name: 'cmdline', type: 'STRING', semantic: 'ST_NONE', doc: 'Command line of the traced process, arguments joined by spaces' },
    { name: 'container_id', type: 'STRING', semantic: 'ST_NONE', doc: 'Container id from the process cgroup, empty outside containers' },
  ],
};

/**
 * One `http_events` row as the stitcher produces it. A type alias (not an interface) so that it
 * is assignable to the store's `Row`.
 */
export type HttpEventRow = {
  readonly time_: bigint;
  readonly upid: string;
  readonly remote_addr: string;
  readonly remote_port: number;
  readonly local_addr: string;
  readonly local_port: number;
  readonly trace_role: number;
  readonly encrypted: boolean;
  readonly major_version: number;
  readonly minor_version: number;
  readonly content_type: number;
  readonly req_headers: string;
  readonly req_method: string;
  readonly req_path: string;
  readonly req_body: string;
  readonly req_body_size: number;
  readonly resp_headers: string;
  readonly resp_status: number;
  readonly resp_message: string;
  readonly resp_body: string;
  readonly resp_body_size: number;
  readonly latency: number;
  readonly pid: number;
  readonly comm: string;
  readonly cmdline: string;
  readonly container_id: string;
};

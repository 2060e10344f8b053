import type { TableSchema } from '../schema.js';

/**
 * `conn_stats`: Pixie's table, same columns, types and meaning. Counters are cumulative per
 * upid × remote endpoint × role (the remote port is 0 for servers, whose clients' ports change
 * with every connection), reported on a fixed period and after a close, so that max − min of a
 * key's counters over a window is what happened in it.
 */
export const CONN_STATS_SCHEMA: TableSchema = {
  name: 'conn_stats',
  doc: 'TCP connection statistics per process, remote endpoint and role: cumulative counts and bytes, reported on a period',
  fields: [
    { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE', doc: 'When the counters were read (ns since the epoch)' },
    { name: 'upid', type: 'UINT128', semantic: 'ST_UPID', doc: 'Unique process id of the process that owns the connections' },
    { name: 'remote_addr', type: 'STRING', semantic: 'ST_IP_ADDRESS', doc: 'IP address of the remote endpoint' },
    { name: 'remote_port', type: 'INT64', semantic: 'ST_PORT', doc: 'Port of the remote endpoint (0 when the process is the server)' },
    { name: 'trace_role', type: 'INT64', semantic: 'ST_NONE', doc: 'Role of the process on the connections: 1 client, 2 server' },
    { name: 'addr_family', type: 'INT64', semantic: 'ST_NONE', doc: 'Socket address family: 2 IPv4, 10 IPv6' },
    { name: 'protocol', type: 'INT64', semantic: 'ST_NONE', doc: "Protocol of the traffic, Pixie's numbering: 0 unknown, 1 HTTP, 13 TLS" },
    { name: 'ssl', type: 'BOOLEAN', semantic: 'ST_NONE', doc: 'Whether the connections carry TLS' },
    { name: 'conn_open', type: 'INT64', semantic: 'ST_NONE', doc: 'Connections opened since tracing began (cumulative)' },
    { name: 'conn_close', type: 'INT64', semantic: 'ST_NONE', doc: 'Connections closed since tracing began (cumulative)' },
    { name: 'conn_active', type: 'INT64', semantic: 'ST_NONE', doc: 'Connections open now (conn_open - conn_close)' },
    { name: 'bytes_sent', type: 'INT64', semantic: 'ST_BYTES', doc: 'Bytes sent to the remote endpoint since tracing began (cumulative)' },
    { name: 'bytes_recv', type: 'INT64', semantic: 'ST_BYTES', doc: 'Bytes received from the remote endpoint since tracing began (cumulative)' },
    { name: 'comm', type: 'STRING', semantic: 'ST_NONE', doc: 'Command name of the process (/proc/<pid>/comm); Wisp\'s own column' },
  ],
};

/**
 * `tls_handshakes` (Wisp's own): one row per TLS handshake, from the plaintext handshake
 * records at the start of the connection. TLS 1.3 encrypts everything after the ServerHello, so
 * its chosen ALPN and certificate cannot be seen and stay empty.
 */
export const TLS_HANDSHAKES_SCHEMA: TableSchema = {
  name: 'tls_handshakes',
  doc: 'TLS handshakes seen on TCP connections: names, protocols, versions, cipher and (TLS <= 1.2) the server certificate',
  fields: [
    { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE', doc: 'When the handshake ended (ns since the epoch)' },
    { name: 'upid', type: 'UINT128', semantic: 'ST_UPID', doc: 'Unique process id of the traced process' },
    { name: 'remote_addr', type: 'STRING', semantic: 'ST_IP_ADDRESS', doc: 'IP address of the remote endpoint' },
    { name: 'remote_port', type: 'INT64', semantic: 'ST_PORT', doc: 'Port of the remote endpoint' },
    { name: 'local_addr', type: 'STRING', semantic: 'ST_IP_ADDRESS', doc: 'IP address of the local endpoint' },
    { name: 'local_port', type: 'INT64', semantic: 'ST_PORT', doc: 'Port of the local endpoint' },
    { name: 'trace_role', type: 'INT64', semantic: 'ST_NONE', doc: 'Role of the traced process on the connection: 1 client, 2 server' },
    { name: 'sni', type: 'STRING', semantic: 'ST_NONE', doc: 'Server name the client asked for (server_name extension), empty when none' },
    { name: 'alpn_offered', type: 'STRING', semantic: 'ST_NONE', doc: 'Application protocols the client offered, comma-separated (h2,http/1.1)' },
    { name: 'alpn', type: 'STRING', semantic: 'ST_NONE', doc: 'Application protocol the server chose (TLS <= 1.2; TLS 1.3 sends it encrypted)' },
    { name: 'versions_offered', type: 'STRING', semantic: 'ST_NONE', doc: 'TLS versions the client offered, comma-separated (TLS 1.3,TLS 1.2)' },
    { name: 'version', type: 'STRING', semantic: 'ST_NONE', doc: 'Negotiated TLS version (TLS 1.2, TLS 1.3)' },
    { name: 'cipher', type: 'STRING', semantic: 'ST_NONE', doc: 'Negotiated cipher suite, by its IANA name' },
    { name: 'handshake_duration', type: 'INT64', semantic: 'ST_DURATION_NS', doc: 'ClientHello to the end of the handshake as seen by the traced process (ns)' },
    { name: 'cert_subject', type: 'STRING', semantic: 'ST_NONE', doc: "Server certificate's subject, RFC 4514 (TLS <= 1.2)" },
    { name: 'cert_issuer', type: 'STRING', semantic: 'ST_NONE', doc: "Server certificate's issuer, RFC 4514 (TLS <= 1.2)" },
    { name: 'cert_sans', type: 'STRING', semantic: 'ST_NONE', doc: "Server certificate's subject alternative names (DNS:a,IP:b) (TLS <= 1.2)" },
    { name: 'cert_not_after', type: 'TIME64NS', semantic: 'ST_NONE', doc: "Server certificate's expiry (TLS <= 1.2; 0 when not seen)" },
    { name: 'comm', type: 'STRING', semantic: 'ST_NONE', doc: 'Command name of the traced process (/proc/<pid>/comm)' },
  ],
};

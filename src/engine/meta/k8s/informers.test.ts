import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeError } from './informers.js';

test('client errors read as one short line: status, the server\'s reason, a hint; or the network failure', () => {
  // The list client's ApiException: the message embeds body and headers.
  const list = Object.assign(new Error('HTTP-Code: 403\nMessage: Unknown API Status Code!\nBody: "{}"\nHeaders: {}'), {
    code: 403,
    body: JSON.stringify({ kind: 'Status', message: 'pods is forbidden: User "system:serviceaccount:wisp:engine" cannot list resource "pods"', code: 403 }),
  });
  assert.equal(
    describeError(list),
    'HTTP 403 pods is forbidden: User "system:serviceaccount:wisp:engine" cannot list resource "pods" (the ClusterRole must allow get/list/watch on pods, services and endpointslices)',
  );
  // The watch's error: the status text.
  assert.equal(describeError(Object.assign(new Error('Unauthorized'), { statusCode: 401 })), 'HTTP 401 Unauthorized (check the token)');
  assert.equal(describeError(Object.assign(new Error('HTTP-Code: 401\nMessage: Unauthorized\nBody: undefined\nHeaders: {}'), { code: 401 })), 'HTTP 401 Unauthorized (check the token)');
  assert.equal(describeError(Object.assign(new Error('HTTP-Code: 500\nMessage: Unknown API Status Code!\nBody: undefined'), { code: 500 })), 'HTTP 500');
  assert.equal(
    describeError(new Error('request to https://10.96.0.1/api/v1/pods?watch=true&resourceVersion=5 failed, reason: connect ECONNREFUSED 10.96.0.1:443')),
    'connect ECONNREFUSED 10.96.0.1:443 (https://10.96.0.1/api/v1/pods)',
  );
  assert.equal(describeError('x'.repeat(400)).length, 300);
  assert.equal(describeError(undefined), 'undefined');
});

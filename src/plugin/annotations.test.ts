import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom } from 'rxjs';

import { annotationSupport, framesToEvents } from './annotations.js';
import { toFrames } from './frames.js';
import { ANNOTATION_PRESETS } from './presets.js';
import type { WispQuery } from './types.js';

test('each output row is a marker: time_, a region to time_end, title, text and comma-separated tags', async () => {
  const frames = toFrames(
    {
      tables: [
        {
          name: 'server_errors',
          columns: [
            { name: 'time_', type: 'TIME64NS' },
            { name: 'time_end', type: 'TIME64NS' },
            { name: 'title', type: 'STRING' },
            { name: 'text', type: 'STRING' },
            { name: 'tags', type: 'STRING' },
            { name: 'errors', type: 'INT64' },
          ],
          rowCount: 2,
          data: [
            ['1700000000000000000', '1700000015000000000'],
            ['1700000015000000000', '1700000015000000000'],
            ['HTTP 5xx', 'HTTP 5xx'],
            ['cart', 'frontend'],
            ['5xx,cart', ' 5xx , frontend ,'],
            ['3', '1'],
          ],
        },
      ],
    },
    { refId: 'Anno', script: '', format: 'table' }
  );
  const anno = { name: 'errors', enable: true, iconColor: 'red', target: { refId: 'Anno', script: 'import px' } };
  const events = await lastValueFrom(annotationSupport.processEvents!(anno, frames));
  assert.deepEqual(events, framesToEvents(frames));
  assert.deepEqual(events, [
    { time: 1700000000000, timeEnd: 1700000015000, isRegion: true, title: 'HTTP 5xx', text: 'cart', tags: ['5xx', 'cart'] },
    // time_end not after time_: a point, not a region.
    { time: 1700000015000, title: 'HTTP 5xx', text: 'frontend', tags: ['5xx', 'frontend'] },
  ]);
});

test('an annotation runs its target as a table query; none without a script; a Pixie target is migrated', () => {
  const target: WispQuery = { refId: '', script: ANNOTATION_PRESETS[0].script };
  assert.deepEqual(annotationSupport.prepareQuery!({ name: 'a', enable: true, iconColor: 'red', target }), { refId: 'Anno', script: target.script, format: 'table' });
  assert.equal(annotationSupport.prepareQuery!({ name: 'a', enable: true, iconColor: 'red', target: { refId: 'A', script: ' ' } }), undefined);
  assert.equal(annotationSupport.prepareQuery!({ name: 'a', enable: true, iconColor: 'red' }), undefined);
  const pixie = { name: 'p', enable: true, iconColor: 'red', target: { refId: 'A', queryType: 'run-script', queryBody: { pxlScript: 'import px' } } };
  assert.deepEqual(annotationSupport.prepareAnnotation!(pixie).target, { refId: 'A', script: 'import px' });
  assert.equal(annotationSupport.getDefaultQuery!().script, ANNOTATION_PRESETS[0].script);
});

import { describe, expect, it } from 'vitest';
import { runGroupInChildProcess } from './child-group.js';

describe('benchmark group in a child process', () => {
  it('fails with the exit code when the child rejects the group', async () => {
    await expect(runGroupInChildProcess('no-such-group', ['--no-memory-reducer'])).rejects.toThrow(/no-such-group in a child process \(node --no-memory-reducer\) exited with 2/);
  });
});

import type { LabelCount, Task } from '@taskwire/client';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Client } from '../lib/session';

/**
 * The project's labels with their counts (GET /projects/{id}/labels), read
 * again shortly after the labels on the live board change.
 */
export function useProjectLabels(client: Client, projectId: number, tasks: readonly Task[] | undefined): LabelCount[] | null {
  const [labels, setLabels] = useState<LabelCount[] | null>(null);
  // What the counts depend on: every task's labels (any change of them changes this string).
  const signature = useMemo(
    () => (tasks ? tasks.map((t) => `${t.id}:${(t.labels ?? []).join('\u0000')}`).join('\u0001') : null),
    [tasks],
  );
  useEffect(() => {
    if (signature === null) return;
    let alive = true;
    const timer = setTimeout(() => {
      client.projects.labels(projectId).then(
        (l) => alive && setLabels(l),
        // Not worth an error message: the filter keeps the last counts, and the board works without it.
        (err: unknown) => console.warn('[labels]', err),
      );
    }, 150);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [client, projectId, signature]);
  return labels;
}

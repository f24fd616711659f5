import { isConflict, type Task, type UpdateTaskInput } from '@taskwire/client';
import { useCallback, useRef, useState } from 'preact/hooks';
import { useErrors, useSession } from '../context';

/**
 * Saves one field of a task from the task view (labels, due date) as a
 * change to the latest version: sent with If-Match, and on a 412 worked out
 * again over the newer task (so someone else's label is never dropped).
 * `patch` returns null when there is nothing to change. The error goes to
 * `source`'s ErrorMessage; `onSaved` gets the server's task.
 */
export function useTaskChange(task: Task, source: string, onSaved: (t: Task) => void) {
  const { client } = useSession();
  const errors = useErrors();
  const [busy, setBusy] = useState(false);
  const latest = useRef(task);
  latest.current = task;

  const run = useCallback(
    async (patch: (t: Task) => UpdateTaskInput | null): Promise<boolean> => {
      errors.clear(source);
      setBusy(true);
      try {
        let current = latest.current;
        for (let attempt = 1; ; attempt++) {
          const change = patch(current);
          if (change === null) return true;
          try {
            onSaved(await client.tasks.update(current.id, change, { ifMatch: current.version }));
            return true;
          } catch (err) {
            if (!isConflict(err) || attempt >= 3) throw err;
            current = (await client.tasks.get(current.id)).task;
          }
        }
      } catch (err) {
        errors.report(source, err);
        return false;
      } finally {
        setBusy(false);
      }
    },
    [client, source, onSaved, errors.clear, errors.report],
  );
  return { run, busy };
}

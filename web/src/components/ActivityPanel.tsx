import type { ProjectEvent, Task } from '@taskwire/client';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useSession } from '../context';
import type { BoardSnapshot } from '../hooks/useLiveBoard';
import { describeEvents } from '../lib/activity';

const RECENT = 30;
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

/**
 * The project's recent events in words: the last ones from the event log
 * when the page opens, then each one as the board applies it.
 */
export function ActivityPanel(props: {
  projectId: number;
  snapshot: BoardSnapshot;
  live: ProjectEvent[];
  names: ReadonlyMap<number, string>;
  tasks: Task[];
}) {
  const { client } = useSession();
  const [logged, setLogged] = useState<ProjectEvent[] | null>(null);
  const [failed, setFailed] = useState(false);
  const titles = useRef(new Map<number, string>());
  for (const t of props.tasks) titles.current.set(t.id, t.title);
  const from = props.snapshot.seq;

  useEffect(() => {
    let alive = true;
    const load = async (since: number) => {
      try {
        const { events } = await client.events.list(props.projectId, { since });
        if (alive) setLogged(events);
      } catch (err) {
        const oldest = (err as { oldestSeq?: number }).oldestSeq;
        if (alive && oldest !== undefined && oldest - 1 > since) await load(oldest - 1);
        else if (alive) setFailed(true);
      }
    };
    void load(Math.max(0, from - RECENT));
    return () => {
      alive = false;
    };
    // Read again only for a new snapshot (a resync): later events come from the board.
  }, [client, props.projectId, from]);

  const items = useMemo(() => {
    const bySeq = new Map<number, ProjectEvent>();
    for (const ev of logged ?? []) bySeq.set(ev.seq, ev);
    for (const ev of props.live) bySeq.set(ev.seq, ev);
    const events = [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-2 * RECENT);
    return describeEvents(events, { snapshot: props.snapshot, names: props.names, titles: titles.current })
      .slice(-RECENT)
      .reverse();
  }, [logged, props.live, props.snapshot, props.names]);

  return (
    <section class="side-section activity" aria-labelledby="activity-heading">
      <h2 id="activity-heading">Activity</h2>
      <ol class="activity-list" data-testid="activity-list">
        {items.length === 0 && <li class="empty">{logged === null && !failed ? 'Loading…' : 'Nothing yet.'}</li>}
        {items.map((it) => (
          <li key={it.seq} data-seq={String(it.seq)}>
            <span class="activity-text">{it.text}</span>{' '}
            <time dateTime={it.ts}>{timeFormat.format(new Date(it.ts))}</time>
          </li>
        ))}
      </ol>
    </section>
  );
}

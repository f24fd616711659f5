import { isForbidden, isNotFound } from '@taskwire/client';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { useSession } from '../context';
import { useLiveBoard } from '../hooks/useLiveBoard';
import { useProjectLabels } from '../hooks/useProjectLabels';
import { useTitle } from '../hooks/useTitle';
import { messageOf } from '../lib/errors';
import { matchesLabels } from '../lib/labels';
import { navigate, paths } from '../lib/router';
import { ActivityPanel } from './ActivityPanel';
import { Board } from './Board';
import { LabelFilter } from './LabelFilter';
import { Link } from './Link';
import { InvitationsPanel } from './InvitationsPanel';
import { MembersPanel } from './MembersPanel';
import { NewTaskForm } from './NewTaskForm';
import { PresenceList } from './PresenceList';
import { ProjectSettings } from './ProjectSettings';
import { TaskPanel } from './TaskPanel';

function Gone(props: { message: string }) {
  return (
    <div class="page">
      <h1>Project unavailable</h1>
      <p>{props.message}</p>
      <p>
        <Link href={paths.home()}>Back to your projects</Link>
      </p>
    </div>
  );
}

export function ProjectPage(props: { projectId: number; taskId: number | undefined }) {
  const { projectId, taskId } = props;
  const { client, user, setBoard, reloadProjects } = useSession();
  const live = useLiveBoard(client, projectId);
  const { view } = live;
  useTitle(view?.project?.name ?? 'Project');

  useEffect(() => {
    setBoard({ state: live.state, retry: live.retry });
  }, [live.state, live.retry, setBoard]);
  useEffect(() => () => setBoard(null), [setBoard]);

  const deleted = view !== null && view.project === null;
  const revoked = live.state === 'revoked';
  useEffect(() => {
    if (deleted || revoked) void reloadProjects();
  }, [deleted, revoked, reloadProjects]);

  const closeTask = useCallback(() => {
    navigate(paths.project(projectId));
    if (taskId !== undefined) {
      // Give the focus back to the card's title the view was opened from.
      requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-testid="task-title-${taskId}"]`)?.focus());
    }
  }, [projectId, taskId]);

  const names = useMemo(() => {
    const m = new Map<number, string>([[user.id, user.username]]);
    for (const p of view?.presence ?? []) m.set(p.user_id, p.username);
    for (const mem of view?.members ?? []) m.set(mem.user_id, mem.user.username);
    return m;
  }, [user, view?.presence, view?.members]);

  const labels = useProjectLabels(client, projectId, view?.tasks);
  const projectLabels = useMemo(() => (labels ?? []).map((l) => l.name), [labels]);
  // The label filter is the page's: it stays while tasks are opened and closed.
  const [labelFilter, setLabelFilter] = useState<string[]>([]);
  const shownTasks = useMemo(
    () => (labelFilter.length === 0 ? (view?.tasks ?? []) : (view?.tasks ?? []).filter((t) => matchesLabels({ labels: t.labels ?? [] }, labelFilter))),
    [view?.tasks, labelFilter],
  );

  if (live.error) {
    const why =
      isForbidden(live.error) || isNotFound(live.error)
        ? 'This project does not exist, or you are not one of its members.'
        : messageOf(live.error);
    return <Gone message={why} />;
  }
  if (deleted) return <Gone message="This project was deleted." />;
  if (revoked) return <Gone message="You are no longer a member of this project." />;
  if (!view || !view.project || !live.snapshot) {
    return (
      <div class="page">
        <p role="status">Loading the board…</p>
      </div>
    );
  }

  const project = view.project;
  return (
    <div class={`project-page${taskId !== undefined ? ' with-task' : ''}`}>
      <div class="project-main">
        <div class="project-head">
          <h1>{project.name}</h1>
          {project.description && <p class="project-description">{project.description}</p>}
        </div>
        <NewTaskForm projectId={projectId} />
        <LabelFilter
          labels={labels ?? []}
          active={labelFilter}
          shown={shownTasks.length}
          total={view.tasks.length}
          onChange={setLabelFilter}
        />
        <Board tasks={shownTasks} members={view.members} />
      </div>
      <aside class="project-side" aria-label="Project details">
        <PresenceList presence={view.presence} userId={user.id} />
        <MembersPanel project={project} members={view.members} />
        {project.owner_id === user.id && <InvitationsPanel project={project} membersCount={view.members.length} />}
        <ProjectSettings project={project} />
        <ActivityPanel
          projectId={projectId}
          snapshot={live.snapshot}
          live={live.events}
          names={names}
          tasks={view.tasks}
        />
      </aside>
      {taskId !== undefined && (
        <TaskPanel
          key={taskId}
          taskId={taskId}
          task={view.tasks.find((t) => t.id === taskId)}
          members={view.members}
          ownerId={project.owner_id}
          names={names}
          projectLabels={projectLabels}
          comments={live.comments}
          onClose={closeTask}
        />
      )}
    </div>
  );
}

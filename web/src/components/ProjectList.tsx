import type { Project } from '@taskwire/client';
import { paths } from '../lib/router';
import { Link } from './Link';

export function ProjectList(props: { projects: Project[] | null; userId: number; highlight?: number | undefined }) {
  const { projects } = props;
  return (
    <ul class="project-list" data-testid="project-list" aria-label="Your projects">
      {projects === null && <li class="empty">Loading…</li>}
      {projects?.length === 0 && <li class="empty">No projects yet: create one above.</li>}
      {projects?.map((p) => (
        <li key={p.id} class={p.id === props.highlight ? 'new' : undefined}>
          <Link href={paths.project(p.id)} data-testid={`project-item-${p.id}`} class="project-item">
            <span class="project-name">{p.name}</span>
            <span class="project-role">{p.owner_id === props.userId ? 'Owner' : 'Member'}</span>
            {p.description && <span class="project-description">{p.description}</span>}
          </Link>
        </li>
      ))}
    </ul>
  );
}

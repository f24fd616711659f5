import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../context';
import { useTitle } from '../hooks/useTitle';
import { NewProjectForm } from './NewProjectForm';
import { ProjectList } from './ProjectList';

export function HomePage() {
  useTitle('Projects');
  const { user, projects, reloadProjects } = useSession();
  const [created, setCreated] = useState<{ id: number; name: string } | undefined>();
  useEffect(() => {
    void reloadProjects();
  }, [reloadProjects]);
  return (
    <div class="page home-page">
      <h1>Your projects</h1>
      <NewProjectForm onCreated={(p) => setCreated({ id: p.id, name: p.name })} />
      <p class="visually-hidden" role="status">
        {created ? `Created project ${created.name}.` : ''}
      </p>
      <ProjectList projects={projects} userId={user.id} highlight={created?.id} />
    </div>
  );
}

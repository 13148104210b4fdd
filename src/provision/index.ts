// Provisioners over a communicator: shell, file, shell-local, ansible, ansible-local (Packer's semantics).
export { runProvisioner } from './run.js';
export { ProvisionerError, flattenEnvVars, type ProvisionContext, type ProvisionOutput, type SshTarget } from './context.js';

// Provisioners over a communicator: shell, file, shell-local (Packer's semantics).
export { runProvisioner } from './run.js';
export { ProvisionerError, flattenEnvVars, type ProvisionContext, type ProvisionOutput } from './context.js';

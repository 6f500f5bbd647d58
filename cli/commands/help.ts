// The help text every client verb ends with: where its server, token and tenant come from.
export const CLIENT_HELP = `
Environment:
  METALFLEET_CONFIG          the contexts file (default $XDG_CONFIG_HOME/metalfleet/config.yaml, else ~/.config/metalfleet/config.yaml)
  METALFLEET_SERVER          the API URL, instead of the context's
  METALFLEET_TOKEN           the token, instead of the context's
  METALFLEET_TENANT          the tenant, instead of the context's (--tenant wins over both)
  NO_COLOR                   no colour even on a terminal (colour is never used when stdout is not one)

Exit codes: 0 done, 1 failed (one line per error), 2 usage error, 3 a plan with changes (--detailed-exitcode).
`;

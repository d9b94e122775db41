// Package commandstest holds the contract of the interfaces that commands declares,
// as test suites any implementation can run. The PostgreSQL store runs them, and so
// does the in-memory fake the command tests use: a fake that passes the same suite
// as the real store cannot let a command test pass on behaviour production lacks.
//
// It imports only the standard library, domain and commands, so that both sides can
// use it without coupling the layers.
package commandstest

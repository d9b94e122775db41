// Command accounts is the composition root: it loads the configuration, builds the
// logger, opens and migrates the database, and wires every layer together with Uber
// Fx. It is the only package that imports Fx or knows every concrete adapter; the
// others export plain constructors.
//
// Subcommands:
//
//	serve                               apply pending migrations, then serve HTTP
//	migrate up|down|status              manage the schema
//	create-superadmin --username NAME   create the first (or another) super admin
package main

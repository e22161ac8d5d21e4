// Package console is the admin console's sign-in and its sessions: the
// pages under /admin where a person signs in with a password or through
// OpenID Connect, signs out, and sees who they are signed in as. The
// people, their roles and the audit log are internal/access's; this
// package turns a browser into one of its principals.
//
// A console session lives in the database (Store, table
// console_sessions), carried by a cookie that is HttpOnly and
// SameSite=Lax, and Secure with the __Host- prefix when the base URL is
// https. It ends after an idle timeout, at an absolute lifetime, and at
// sign-out; the user is read again on every request, so a disabled or
// deleted user's sessions stop working at once. Forms posted to /admin
// from another origin are refused (net/http.CrossOriginProtection).
//
// Past sign-in, Pages are the console's pages (home, connections,
// invoices): each reads and changes through the services the admin API's
// handlers call, with the same role and organization rules, and with the
// signed-in person in the request's context, so that the audit log names
// them.
package console

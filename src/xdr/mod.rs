//! Cisco XDR client.

#!/bin/sh
# /usr/bin/pos-app: the installed cashier application lives in /opt/pos-app.
exec /opt/pos-app/pos-app "$@"

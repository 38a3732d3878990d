#!/bin/sh
# A sample service restart step that succeeds.
echo "stopping api.service"
echo "starting api.service"
echo "api.service is active (running)"

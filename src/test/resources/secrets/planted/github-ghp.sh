#!/bin/sh
export GITHUB_TOKEN=ghp_ISnQ8unUFNPXDpbQHNXdwJDnw5KPlr8dx4Ip
gh release list

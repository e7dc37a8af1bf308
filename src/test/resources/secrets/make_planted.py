#!/usr/bin/env python3
"""Writes planted/*: FAKE secrets for SecretScannerTest, from a fixed seed.

Nothing here is a credential. PEM bodies are random bytes behind the usual DER/format prefix,
so they do not parse as keys; tokens are random characters in each vendor's published shape.
The only non-random values are AWS's own documented examples (AKIAIOSFODNN7EXAMPLE,
wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY). Run from this directory: python3 make_planted.py
"""
import base64
import random
import string

rnd = random.Random(20251121)
ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
B64 = string.ascii_letters + string.digits + "+/"


def chars(alphabet, n):
    return "".join(rnd.choice(alphabet) for _ in range(n))


def body(prefix_b64, nbytes):
    text = prefix_b64 + base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(nbytes))).decode()
    return "\n".join(text[i:i + 64] for i in range(0, len(text), 64))


def pem(label, prefix, nbytes, headers=""):
    return f"-----BEGIN {label}-----\n{headers}{body(prefix, nbytes)}\n-----END {label}-----\n"


def write(name, text):
    with open(f"planted/{name}", "w") as f:
        f.write(text)


write("rsa-private-key.pem", pem("RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 1180))
write("rsa-private-key-legacy-encrypted.pem", pem("RSA PRIVATE KEY", "", 1190,
      "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"
      + chars("0123456789ABCDEF", 32) + "\n\n"))
write("ec-private-key.pem", pem("EC PRIVATE KEY", "MHcCAQEEI", 110))
write("dsa-private-key.pem", pem("DSA PRIVATE KEY", "MIIBuwIBAAKBgQ", 430))
write("pkcs8-private-key.pem", pem("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 1200))
write("encrypted-private-key.pem", pem("ENCRYPTED PRIVATE KEY", "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG", 1250))
write("id_ed25519", pem("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", 300))
write("pgp-private-key.asc", pem("PGP PRIVATE KEY BLOCK", "lQOYBGV", 900,
      "Version: GnuPG v2\nComment: test corpus, not a key\n\n"))

pkcs8 = body("MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQ", 1180).replace("\n", "\\n")
write("gcp-service-account.json", """{
  "type": "service_account",
  "project_id": "warden-corpus-123456",
  "private_key_id": "%s",
  "private_key": "-----BEGIN PRIVATE KEY-----\\n%s\\n-----END PRIVATE KEY-----\\n",
  "client_email": "ci-runner@warden-corpus-123456.iam.gserviceaccount.com",
  "client_id": "%s",
  "auth_uri": "https://accounts.google.com/o/oauth2/auth",
  "token_uri": "https://oauth2.googleapis.com/token"
}
""" % (chars("0123456789abcdef", 40), pkcs8, chars(string.digits, 21)))

write("aws-credentials", """[default]
aws_access_key_id = AKIA%s
aws_secret_access_key = %s
region = eu-west-1
""" % (chars(UPPER_DIGITS, 16), chars(B64, 40)))
write("aws-session.env", """# temporary credentials from sts assume-role
AWS_ACCESS_KEY_ID=ASIA%s
AWS_SECRET_ACCESS_KEY="%s"
AWS_REGION=us-east-1
""" % (chars(UPPER_DIGITS, 16), chars(B64, 40)))
write("aws-documented-example.py", """import boto3

# AWS's own documented example credentials, pasted into code
session = boto3.Session(
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)
""")

write("github-ghp.sh", "#!/bin/sh\nexport GITHUB_TOKEN=ghp_%s\ngh release list\n" % chars(ALNUM, 36))
write("github-gho.json", '{"oauth": {"access_token": "gho_%s", "scope": "repo"}}\n' % chars(ALNUM, 36))
write("github-ghu.yml", "app:\n  user_token: ghu_%s\n" % chars(ALNUM, 36))
write("github-ghs.txt", "installation token for the bot: ghs_%s (expires in 1h)\n" % chars(ALNUM, 36))
write("github-ghr.ini", "[refresh]\nvalue=ghr_%s\n" % chars(ALNUM, 36))
write("github-fine-grained.env", "GH_PAT=github_pat_%s_%s\n" % (chars(ALNUM, 22), chars(ALNUM, 59)))
write("gitlab.yml", "variables:\n  GITLAB_TOKEN: glpat-%s\n" % chars(ALNUM + "_-", 20))
write("slack.js", """const { WebClient } = require('@slack/web-api');
const bot = new WebClient('xoxb-%s-%s-%s');
const user = new WebClient("xoxp-%s-%s-%s-%s");
""" % (chars(string.digits, 12), chars(string.digits, 13), chars(ALNUM, 24),
       chars(string.digits, 12), chars(string.digits, 12), chars(string.digits, 13), chars("0123456789abcdef", 32)))
write("stripe.rb", """Stripe.api_key = 'sk_live_%s'
RESTRICTED = "rk_live_%s"
""" % (chars(ALNUM, 99), chars(ALNUM, 99)))
write("openai.py", """from openai import OpenAI

legacy = OpenAI(api_key="sk-%sT3BlbkFJ%s")
project = OpenAI(api_key="sk-proj-%s")
""" % (chars(ALNUM, 20), chars(ALNUM, 20), chars(ALNUM + "_-", 156)))
write("anthropic.ts", """import Anthropic from "@anthropic-ai/sdk";

const client = new Anthropic({ apiKey: "sk-ant-api03-%sAA" });
""" % chars(ALNUM + "_-", 93))
write("generic-password.yml", """database:
  host: db.internal
  user: app
  password: "%s"
""" % (chars(ALNUM, 10) + "#" + chars(ALNUM, 9) + "!2"))
write("generic-secret.env", "SESSION_SECRET=%s\n" % (chars(ALNUM, 14) + "%" + chars(ALNUM, 17)))
write("generic-client-secret.json", '{"client_id": "web-app", "client_secret": "%s"}\n' % (chars(ALNUM, 18) + "~" + chars(ALNUM, 13)))

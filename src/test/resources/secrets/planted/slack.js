const { WebClient } = require('@slack/web-api');
const bot = new WebClient('xoxb-298265340554-7095038677947-YsuRpn25k08YSzW2JAMsMN9D');
const user = new WebClient("xoxp-167466259082-204355358124-0205843059354-6b09a5e05de268a2fb7334185039279c");

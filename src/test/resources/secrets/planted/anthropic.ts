import Anthropic from "@anthropic-ai/sdk";

const client = new Anthropic({ apiKey: "sk-ant-api03-d9o8BQXJ_FoaFXJLAV6cOsBEQdLcUz4tZ4lRyiiol0XfDBJjFtqfy5jhoKbXB4zAbPMd35jluPL-TtjV_pxlhy0PENwy1AA" });

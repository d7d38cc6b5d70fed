"""Gemensamma hjälpmoduler utan beroenden på portalens appar (SMS-textregler, integritetshjälp)."""

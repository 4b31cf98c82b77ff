"""Notices by e-mail (iMIP, RFC 6047): what must be sent (plan.py, pure), the messages
(imip.py, pure), replies (reply.py, pure), and the shells that queue and deliver them
(queue.py, smtp.py)."""

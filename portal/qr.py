"""QR codes for certificates, rendered as SVG data URIs (allowed by the CSP's img-src)."""

import segno


def svg_data_uri(link: str) -> str:
    """Return an SVG QR code of ``link`` as a data URI."""
    return segno.make(link, error="m").svg_data_uri(scale=4, border=2)

from django.conf import settings


def analytics(request):
    """Expose the GA measurement id to templates."""
    return {"GA_MEASUREMENT_ID": settings.GA_MEASUREMENT_ID}

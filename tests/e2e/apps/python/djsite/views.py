import json

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt


def hello(request):
    return HttpResponse("Hello from Django", content_type="text/plain")


def item(request, item_id):
    return JsonResponse({"item_id": item_id, "q": request.GET.get("q"), "method": request.method,
                         "path": request.path, "host": request.get_host()})


@csrf_exempt
def echo(request):
    if request.method != "POST":
        return HttpResponse("POST only", status=405, content_type="text/plain")
    body = request.body
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    response = JsonResponse({"length": len(body), "json": parsed, "content_type": request.content_type})
    response["X-Echo"] = "yes"
    return response


def stream(request):
    return StreamingHttpResponse((f"line {i}\n" for i in range(4)), content_type="text/plain")


def fail(request):
    raise RuntimeError("django view failed")
